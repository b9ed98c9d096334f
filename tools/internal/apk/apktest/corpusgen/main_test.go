package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
)

// The corpus has the shapes it claims: each lock parses, each package's file is where its
// URL says, and each shape's defining trait is there.
func TestCorpusShapes(t *testing.T) {
	dir := t.TempDir()
	base := "http://127.0.0.1:1"
	c, err := generate(dir, base, []byte("\x7fELF probe"))
	if err != nil {
		t.Fatal(err)
	}
	if c.wolfiCount < 100 {
		t.Errorf("wolfi has %d packages, want 100+", c.wolfiCount)
	}
	for _, name := range []string{"wolfi", "alpine", "thirdparty", "pre013", "empty"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".lock.json"))
		if err != nil {
			t.Fatal(err)
		}
		l, err := lockfile.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		archs := map[string]bool{}
		for _, p := range l.Contents.Packages {
			archs[p.Architecture] = true
			st, err := os.Stat(filepath.Join(dir, strings.TrimPrefix(p.URL, base+"/")))
			if err != nil {
				t.Fatalf("%s: %s: %v", name, p.Label(), err)
			}
			signed := p.Signature.Range != ""
			switch name {
			case "wolfi":
				if signed || p.Checksum == "" {
					t.Errorf("wolfi: %s: want unsigned with a checksum", p.Label())
				}
			case "pre013":
				if p.Checksum != "" || !strings.HasSuffix(p.Data.Range, "-42") {
					t.Errorf("pre013: %s: checksum %q, data range %s", p.Label(), p.Checksum, p.Data.Range)
				}
			default:
				if !signed || !strings.HasSuffix(p.Data.Range, "-"+itoa(st.Size()-1)) {
					t.Errorf("%s: %s: signature %q, data range %s for %d bytes", name, p.Label(), p.Signature.Range, p.Data.Range, st.Size())
				}
			}
		}
		switch name {
		case "wolfi":
			if len(l.Contents.Keyring) != 2 || !archs["x86_64"] || !archs["aarch64"] || len(l.Contents.Packages) != 2*c.wolfiCount {
				t.Errorf("wolfi: %d keys, archs %v, %d packages", len(l.Contents.Keyring), archs, len(l.Contents.Packages))
			}
		case "alpine":
			if !strings.Contains(l.Contents.Keyring[0].URL, "alpine-devel%40lists.alpinelinux.org") {
				t.Errorf("alpine: key URL %s is not percent-encoded", l.Contents.Keyring[0].URL)
			}
		case "thirdparty":
			if l.Contents.Keyring[1].Content == "" || !strings.HasPrefix(l.Contents.Repositories[1].Name, "@vendor ") {
				t.Errorf("thirdparty: keyring %+v, repositories %+v", l.Contents.Keyring, l.Contents.Repositories)
			}
		case "pre013":
			if l.Config != nil || l.Contents.BuildRepositories != nil {
				t.Errorf("pre013 has config or build repositories")
			}
		case "empty":
			if len(l.Contents.Packages) != 0 {
				t.Errorf("empty has packages")
			}
		}
	}
	// Alpine signs with SHA1 (.SIGN.RSA.), the vendor with SHA256 (.SIGN.RSA256.).
	for rel, want := range map[string]string{
		"alpine/v3.22/main/x86_64/corpus-probe-1.0.0-r0.apk": ".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
		"vendor/apk/x86_64/vendor-agent-4.2.0-r1.apk":        ".SIGN.RSA256.vendor-2024.rsa.pub",
	} {
		b, _ := os.ReadFile(filepath.Join(dir, rel))
		if !containsGunzipped(t, b, want) {
			t.Errorf("%s is not signed as %s", rel, want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// containsGunzipped reports whether the package's first gzip member (the signature) holds
// an entry named name.
func containsGunzipped(t *testing.T, apk []byte, name string) bool {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(apk))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	h, err := tar.NewReader(zr).Next()
	return err == nil && h.Name == name
}
