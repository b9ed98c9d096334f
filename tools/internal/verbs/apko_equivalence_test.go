//go:build e2e

package verbs

// Equivalence with apko: the rootfs that our per-package layers plus the database layer
// produce for chainguard.dev/apko v0.30.34's offline test lock must equal apko's golden
// image of the same lock (both from its module, read through the Go module cache).
//
//	go test -tags e2e -run Apko ./tools/internal/verbs/

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const apkoModule = "chainguard.dev/apko@v0.30.34"

// Deliberate differences, each with its reason (docs/apk-install.md).
var notCompared = map[string]string{
	"etc/apko.json": "apko's record of its own config; rules_wharf has no apko config to record",
	"etc/passwd":    "apko writes an empty /etc/passwd when no accounts are configured; rules_wharf writes none, so a package's /etc/passwd is never hidden",
}

type node struct {
	typ      byte
	mode     int64
	uid, gid int
	link     string
	data     string
	dev      [2]int64
}

func (n node) String() string {
	return fmt.Sprintf("type=%c mode=%o owner=%d:%d link=%q dev=%v size=%d", n.typ, n.mode, n.uid, n.gid, n.link, n.dev, len(n.data))
}

// apply unpacks a (gzip) layer onto fs with overlay semantics: later entries win.
func apply(t *testing.T, fs map[string]node, blob []byte) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if p == "." {
			continue
		}
		data, _ := io.ReadAll(tr)
		typ := h.Typeflag
		if typ == tar.TypeRegA {
			typ = tar.TypeReg
		}
		n := node{typ: typ, mode: h.Mode & 0o7777, uid: h.Uid, gid: h.Gid, link: h.Linkname, data: string(data), dev: [2]int64{h.Devmajor, h.Devminor}}
		if typ == tar.TypeLink {
			n = fs[path.Clean(h.Linkname)]
		}
		fs[p] = n
	}
}

func TestApkoEquivalence(t *testing.T) {
	out, err := exec.Command("go", "mod", "download", "-json", apkoModule).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", apkoModule, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download: %s", out)
	}
	cli := filepath.Join(mod.Dir, "internal", "cli")
	lockBytes, err := os.ReadFile(filepath.Join(cli, "testdata", "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Contents struct {
			Keyring      []struct{ URL string }
			Repositories []struct {
				Name, Architecture string
			}
			Packages []struct {
				Name, URL, Version, Architecture string
				Control, Data                    struct{ Checksum string }
			}
		}
	}
	if err := json.Unmarshal(lockBytes, &lock); err != nil {
		t.Fatal(err)
	}

	work := t.TempDir()
	fs := map[string]node{}
	var dbArgs []string
	for i, p := range lock.Contents.Packages {
		if p.Architecture != "x86_64" {
			continue
		}
		o := func(s string) string { return filepath.Join(work, fmt.Sprintf("%d.%s", i, s)) }
		// apko resolves the lock's relative URLs against its working directory (internal/cli).
		err := apkExtract([]string{"--name", p.Name, "--version", p.Version, "--arch", p.Architecture,
			"--part", filepath.Join(cli, p.URL), "--control-checksum", p.Control.Checksum, "--data-checksum", p.Data.Checksum,
			"--blob", o("blob"), "--metadata", o("meta"), "--facts", o("facts")})
		if err != nil {
			t.Fatal(err)
		}
		blob, _ := os.ReadFile(o("blob"))
		apply(t, fs, blob)
		dbArgs = append(dbArgs, "--package", o("facts"))
	}
	for _, k := range lock.Contents.Keyring {
		dbArgs = append(dbArgs, "--key", filepath.Join(cli, k.URL))
	}
	dbArgs = append(dbArgs, "--repository", "./testdata/packages", "--arch", "x86_64",
		"--blob", filepath.Join(work, "db.blob"), "--metadata", filepath.Join(work, "db.meta"))
	if err := installdbVerb(dbArgs); err != nil {
		t.Fatal(err)
	}
	db, _ := os.ReadFile(filepath.Join(work, "db.blob"))
	apply(t, fs, db)

	// apko's golden amd64 image: one layer.
	golden := map[string]node{}
	gdir := filepath.Join(cli, "testdata", "golden")
	var idx struct {
		Manifests []struct {
			Digest   string
			Platform struct{ Architecture string }
		}
	}
	b, _ := os.ReadFile(filepath.Join(gdir, "index.json"))
	json.Unmarshal(b, &idx)
	for _, m := range idx.Manifests {
		if m.Platform.Architecture != "amd64" {
			continue
		}
		var man struct{ Layers []struct{ Digest string } }
		b, _ := os.ReadFile(filepath.Join(gdir, "blobs", "sha256", strings.TrimPrefix(m.Digest, "sha256:")))
		json.Unmarshal(b, &man)
		for _, l := range man.Layers {
			lb, err := os.ReadFile(filepath.Join(gdir, "blobs", "sha256", strings.TrimPrefix(l.Digest, "sha256:")))
			if err != nil {
				t.Fatal(err)
			}
			apply(t, golden, lb)
		}
	}
	if len(golden) == 0 {
		t.Fatal("no golden amd64 image")
	}

	var paths []string
	for p := range golden {
		paths = append(paths, p)
	}
	for p := range fs {
		if _, ok := golden[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	compared := 0
	for _, p := range paths {
		if why, skip := notCompared[p]; skip {
			t.Logf("not compared: /%s (%s)", p, why)
			continue
		}
		g, inGolden := golden[p]
		o, inOurs := fs[p]
		switch {
		case !inGolden:
			t.Errorf("/%s: only in rules_wharf's image (%v)", p, o)
		case !inOurs:
			t.Errorf("/%s: only in apko's image (%v)", p, g)
		case p == "usr/lib/apk/db/installed":
			// apko prints an empty install_if list as "i:[]" (a Go slice); apk writes "i:".
			if want := strings.ReplaceAll(g.data, "\ni:[]\n", "\ni:\n"); o.data != want {
				t.Errorf("installed db differs:\n--- apko\n%s\n--- rules_wharf\n%s", want, o.data)
			}
			o.data, g.data = "", ""
			fallthrough
		default:
			if o != g {
				t.Errorf("/%s differs:\n  apko:        %v\n  rules_wharf: %v", p, g, o)
			}
		}
		compared++
	}
	t.Logf("compared %d paths with apko v0.30.34's golden image", compared)
}
