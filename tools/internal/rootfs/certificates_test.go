package rootfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/installer"
	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
)

func testCert(t *testing.T, name string) apkoconfig.Certificate {
	t.Helper()
	p, _, err := apktest.NewCertificate(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := apkoconfig.ParseCertificate(p)
	if err != nil {
		t.Fatal(err)
	}
	c.Name = name
	return *c
}

// jks is a Java truststore holding der under alias, made the way apko reads them.
func jks(t *testing.T, alias string, der []byte) []byte {
	t.Helper()
	ks := keystore.New(keystore.WithOrderedAliases())
	err := ks.SetTrustedCertificateEntry(alias, keystore.TrustedCertificateEntry{CreationTime: time.Unix(1700000000, 0),
		Certificate: keystore.Certificate{Type: "X.509", Content: der}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ks.Store(&b, javaTruststorePassword); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sidecar(data []byte, name string) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%q", hex.EncodeToString(sum[:])+"  "+name+"\n")
}

// The additional certificates become files, are appended to the bundle (reached through a
// symlink, as apko opens it) and added to the truststore; checksums are written beside both.
func TestCertificates(t *testing.T) {
	fs := newTestFS()
	fs.Add("etc/ssl", &Node{Kind: Dir, Mode: 0o755, Origin: Origin{Pkg: -1}})
	fs.Add("etc/ssl/certs", &Node{Kind: Dir, Mode: 0o755, Origin: Origin{Pkg: -1}})
	fs.file("etc/ssl/cert.pem", "EXISTING\n", 0o600)
	fs.symlink("etc/ssl/certs/ca-certificates.crt", "../cert.pem")
	// A second bundle path that is the same file: apko appends once.
	for _, d := range []string{"kaniko", "kaniko/ssl", "kaniko/ssl/certs"} {
		fs.Add(d, &Node{Kind: Dir, Mode: 0o755, Origin: Origin{Pkg: -1}})
	}
	fs.symlink("kaniko/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem")
	_, oldDER, _ := apktest.NewCertificate("old")
	fs.file("etc/ssl/certs/java/cacerts", string(jks(t, "old", oldDER)), 0o640)
	a, b := testCert(t, "Corp"), testCert(t, "other")
	err := fs.ApplyCertificates(&apkoconfig.Certificates{Additional: []apkoconfig.Certificate{a, b}}, nil, fs.read, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteBundleChecksums(fs.read); err != nil {
		t.Fatal(err)
	}
	bundle := "EXISTING\n" + string(a.PEM) + "\n" + string(b.PEM) + "\n"
	store := fs.Node("etc/ssl/certs/java/cacerts").Data
	want := []string{
		fmt.Sprintf("etc/ssl/cert.pem 0 0600 0:0 %q", bundle),
		"etc/ssl/certs/.ca-certificates.crt.sha256 0 0444 0:0 " + sidecar([]byte(bundle), "ca-certificates.crt"),
		"etc/ssl/certs/java/.cacerts.sha256 0 0444 0:0 " + sidecar(store, "cacerts"),
		fmt.Sprintf("etc/ssl/certs/java/cacerts 0 0640 0:0 %q", store),
		"kaniko/ssl/certs/.ca-certificates.crt.sha256 0 0444 0:0 " + sidecar([]byte(bundle), "ca-certificates.crt"),
		"usr/local/ 5 0755 0:0",
		"usr/local/share/ 5 0755 0:0",
		"usr/local/share/ca-certificates/ 5 0755 0:0",
		fmt.Sprintf("usr/local/share/ca-certificates/Corp-%s.crt 0 0644 0:0 %q", a.Fingerprint, a.PEM),
		fmt.Sprintf("usr/local/share/ca-certificates/other-%s.crt 0 0644 0:0 %q", b.Fingerprint, b.PEM),
	}
	if got := strings.Join(fs.layer(t), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("layer:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	ks := keystore.New(keystore.WithOrderedAliases())
	if err := ks.Load(bytes.NewReader(store), javaTruststorePassword); err != nil {
		t.Fatal(err)
	}
	// keystore-go lower-cases aliases, as in apko's image.
	if got, want := strings.Join(ks.Aliases(), " "), "corp-"+a.Fingerprint+" old other-"+b.Fingerprint; got != want {
		t.Errorf("truststore aliases %s, want %s", got, want)
	}
}

// Providers: the files of packages that provide a listed name, sorted by path; files that
// are no certificate are skipped, as apko skips them.
func TestProvidedCertificates(t *testing.T) {
	fs := newTestFS()
	fs.Add("etc/ssl/certs", &Node{Kind: Dir, Mode: 0o755, Origin: Origin{Pkg: -1}})
	fs.file("etc/ssl/certs/ca-certificates.crt", "", 0o644)
	z, y := testCert(t, "z"), testCert(t, "y")
	entries := []apkfile.Entry{{Path: "usr", Type: "dir", Mode: 0o755}}
	for p, c := range map[string]string{"usr/local/share/ca-certificates/b.pem": string(z.PEM), "usr/local/share/ca-certificates/a/y.crt": string(y.PEM),
		"usr/local/share/ca-certificates/README.crt": "not a certificate", "usr/local/share/ca-certificates/c.der": string(z.PEM)} {
		fs.file(p, c, 0o644)
		entries = append(entries, apkfile.Entry{Path: p, Type: "file", Mode: 0o644})
	}
	pkgs := []*installer.Installed{{Info: &apkfile.PkgInfo{Name: "corp-certs", Version: "1-r0", Provides: []string{"custom-ca-certificates"}}, Entries: entries}}
	err := fs.ApplyCertificates(&apkoconfig.Certificates{Providers: []string{"custom-ca-certificates"}}, pkgs, fs.read, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(fs.Node("etc/ssl/certs/ca-certificates.crt").Data), string(y.PEM)+"\n"+string(z.PEM)+"\n"; got != want {
		t.Errorf("bundle:\n%s\nwant:\n%s", got, want)
	}
	// A package that does not provide the name contributes nothing.
	fs = newTestFS()
	fs.Add("etc/ssl/certs", &Node{Kind: Dir, Mode: 0o755, Origin: Origin{Pkg: -1}})
	fs.file("etc/ssl/certs/ca-certificates.crt", "", 0o644)
	pkgs[0].Info.Provides = []string{"custom-ca-certificates=1"}
	if err := fs.ApplyCertificates(&apkoconfig.Certificates{Providers: []string{"custom-ca-certificates"}}, pkgs, fs.read, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if got := fs.layer(t); len(got) != 0 {
		t.Errorf("layer %q, want nothing", got)
	}
}

func TestRuntimeKeyring(t *testing.T) {
	fs := newTestFS()
	keys := []apkoconfig.RuntimeKey{{Name: "z.rsa.pub", PEM: []byte("Z")}, {Name: "a.rsa.pub", PEM: []byte("A")}}
	if err := fs.ApplyRuntimeKeyring(keys); err != nil {
		t.Fatal(err)
	}
	want := `etc/apk/ 5 0755 0:0
etc/apk/keys/ 5 0755 0:0
etc/apk/keys/a.rsa.pub 0 0644 0:0 "A"
etc/apk/keys/z.rsa.pub 0 0644 0:0 "Z"`
	if got := strings.Join(fs.layer(t), "\n"); got != want {
		t.Errorf("layer:\n%s\nwant:\n%s", got, want)
	}
}

// Every error of the certificates and runtime keys applied to a filesystem, with its message.
func TestCertificateAndRuntimeKeyErrors(t *testing.T) {
	cert := testCert(t, "corp")
	certs := &apkoconfig.Certificates{Additional: []apkoconfig.Certificate{cert}}
	for _, tc := range []struct {
		name  string
		setup func(*testFS)
		apply func(*testFS) error
		want  string
	}{
		{"truststore not JKS", func(fs *testFS) { fs.file("etc/ssl/certs/java/cacerts", "PKCS12?", 0o644) },
			func(fs *testFS) error { return fs.ApplyCertificates(certs, nil, fs.read, time.Unix(0, 0)) },
			"certificates: Java truststore /etc/ssl/certs/java/cacerts (JKS, password changeit, as apko reads it): "},
		{"bundle is a directory", func(fs *testFS) { fs.Add("etc/ssl/certs/ca-certificates.crt", &Node{Kind: Dir, Mode: 0o755}) },
			func(fs *testFS) error { return fs.ApplyCertificates(certs, nil, fs.read, time.Unix(0, 0)) },
			"certificates: CA bundle: /etc/ssl/certs/ca-certificates.crt: is a directory, not a file"},
		{"checksum of a directory", func(fs *testFS) { fs.Add("etc/ssl/certs/java/cacerts", &Node{Kind: Dir, Mode: 0o755}) },
			func(fs *testFS) error { return fs.WriteBundleChecksums(fs.read) },
			"certificate store checksum: /etc/ssl/certs/java/cacerts: is a directory, not a file"},
		{"certificates dir is a file", func(fs *testFS) { fs.file("usr/local", "x", 0o644) },
			func(fs *testFS) error { return fs.ApplyCertificates(certs, nil, fs.read, time.Unix(0, 0)) },
			"certificates: /usr/local: is a file, not a directory"},
		{"key collides", func(fs *testFS) { fs.file("etc/apk/keys/wolfi-signing.rsa.pub", "K", 0o644) },
			func(fs *testFS) error {
				return fs.ApplyRuntimeKeyring([]apkoconfig.RuntimeKey{{Name: "wolfi-signing.rsa.pub", PEM: []byte("X")}})
			},
			"contents.runtime_keyring wolfi-signing.rsa.pub: /etc/apk/keys/wolfi-signing.rsa.pub exists already (a file, from the packages, the keyring or paths), and apko does not overwrite it"},
		{"key collides with a dangling symlink", func(fs *testFS) { fs.symlink("etc/apk/keys/k.rsa.pub", "/nowhere") },
			func(fs *testFS) error {
				return fs.ApplyRuntimeKeyring([]apkoconfig.RuntimeKey{{Name: "k.rsa.pub", PEM: []byte("X")}})
			},
			"contents.runtime_keyring k.rsa.pub: /etc/apk/keys/k.rsa.pub exists already (a symlink, from the packages, the keyring or paths), and apko does not overwrite it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newTestFS()
			tc.setup(fs)
			err := tc.apply(fs)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}
