//go:build e2e

package verbs

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
)

func readAll(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// certsRepo writes a signed repository whose packages bring a CA bundle (with a second
// bundle path that is a symlink to it), a Java truststore, and a package that provides
// custom-ca-certificates with two certificates and a file that is none.
func certsRepo(t *testing.T, dir string) {
	t.Helper()
	cert := func(cn string) (string, []byte) {
		p, der, err := apktest.NewCertificate(cn)
		if err != nil {
			t.Fatal(err)
		}
		return string(p), der
	}
	mozilla, mozillaDER := cert("mozilla root")
	corpA, _ := cert("corp a")
	corpB, _ := cert("corp b")
	ks := keystore.New(keystore.WithOrderedAliases())
	ks.SetTrustedCertificateEntry("mozillaroot", keystore.TrustedCertificateEntry{CreationTime: time.Unix(1700000000, 0),
		Certificate: keystore.Certificate{Type: "X.509", Content: mozillaDER}})
	var jks bytes.Buffer
	if err := ks.Store(&jks, []byte("changeit")); err != nil {
		t.Fatal(err)
	}
	writeRepo(t, dir, "equiv.rsa.pub", "certificates", []apktest.Package{
		{Name: "ca-certificates-bundle", Version: "20241121-r1", Arch: "x86_64", Origin: "ca-certificates", BuildDate: 1700000000, Files: []apktest.File{
			{Path: "etc", Dir: true}, {Path: "etc/ssl", Dir: true}, {Path: "etc/ssl/certs", Dir: true},
			{Path: "etc/ssl/certs/ca-certificates.crt", Content: "# mozilla\n" + mozilla},
			{Path: "etc/ssl/cert.pem", Linkname: "certs/ca-certificates.crt"},
			{Path: "kaniko", Dir: true}, {Path: "kaniko/ssl", Dir: true}, {Path: "kaniko/ssl/certs", Dir: true},
			{Path: "kaniko/ssl/certs/ca-certificates.crt", Linkname: "/etc/ssl/certs/ca-certificates.crt"},
		}},
		{Name: "java-cacerts", Version: "1-r0", Arch: "x86_64", Origin: "java-cacerts", BuildDate: 1700000000, Depends: []string{"ca-certificates-bundle"}, Files: []apktest.File{
			{Path: "etc", Dir: true}, {Path: "etc/ssl", Dir: true}, {Path: "etc/ssl/certs", Dir: true}, {Path: "etc/ssl/certs/java", Dir: true},
			{Path: "etc/ssl/certs/java/cacerts", Content: jks.String(), Mode: 0o640},
		}},
		{Name: "corp-certs", Version: "2-r0", Arch: "x86_64", Origin: "corp-certs", BuildDate: 1700000000, Provides: []string{"custom-ca-certificates"}, Files: []apktest.File{
			{Path: "usr", Dir: true}, {Path: "usr/local", Dir: true}, {Path: "usr/local/share", Dir: true},
			{Path: "usr/local/share/ca-certificates", Dir: true}, {Path: "usr/local/share/ca-certificates/sub", Dir: true},
			{Path: "usr/local/share/ca-certificates/sub/b.pem", Content: corpB},
			{Path: "usr/local/share/ca-certificates/a.crt", Content: "Subject: corp a\n" + corpA},
			{Path: "usr/local/share/ca-certificates/README.crt", Content: "not a certificate\n"},
		}},
	})
}

// TestApkoEquivalenceCertificates: apko v1.2.39 and our verbs lock and build the same from a
// configuration with `certificates` (two additional certificates, one of them twice, and
// providers) and `contents.runtime_keyring` over packages with a CA bundle reached by two
// paths and a Java truststore: the per-certificate files, the bundle's bytes, the JKS
// truststore's bytes, the .sha256 checksum files and the keys under /etc/apk/keys; and the
// same lock.
func TestApkoEquivalenceCertificates(t *testing.T) {
	apko := apkooracle.Binary(t)
	dir := t.TempDir()
	certsRepo(t, dir)
	extra, _, err := apktest.NewCertificate("extra root")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := apktest.NewCertificate("Other root")
	if err != nil {
		t.Fatal(err)
	}
	k1, _ := apktest.NewKey("corp-runtime.rsa.pub")
	k2, _ := apktest.NewKey("a-runtime.rsa.pub")
	config := `contents:
  repositories: [./repo]
  keyring: [./equiv.rsa.pub]
  packages: [java-cacerts, corp-certs]
  runtime_keyring:
    - name: corp-runtime.rsa.pub
      content: |
` + apktest.YAMLBlock(append([]byte("a comment apko drops\n"), k1.PublicPEM()...)) + `    - name: a-runtime.rsa.pub
      content: |
` + apktest.YAMLBlock(k2.PublicPEM()) + `archs: [x86_64]
certificates:
  providers: [custom-ca-certificates]
  additional:
    - name: Extra_Root.v1
      content: |
` + apktest.YAMLBlock(append([]byte("Subject: extra\n"), extra...)) + `    - name: other
      content: |
` + apktest.YAMLBlock(other) + `    - name: other
      content: |
` + apktest.YAMLBlock(other)
	os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(config), 0o644)
	apkoRun := func(args ...string) {
		cmd := exec.Command(apko, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apko %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	apkoRun("lock", "apko.yaml", "--output", "apko.lock.json")
	// The lock apko writes for this configuration is ours too, byte for byte.
	if err := lockVerb([]string{"--config", filepath.Join(dir, "apko.yaml"), "--lock", filepath.Join(dir, "ours.lock.json")}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if a, b := readAll(t, filepath.Join(dir, "apko.lock.json")), readAll(t, filepath.Join(dir, "ours.lock.json")); a != b {
		t.Errorf("lock differs:\n--- apko\n%s\n--- rules_wharf\n%s", a, b)
	}
	apkoRun("build", "--offline", "--sbom=false", "--arch", "x86_64", "--cache-dir", filepath.Join(dir, "cache"),
		"--lockfile", "apko.lock.json", "apko.yaml", "certs:apko", filepath.Join(dir, "image.tar"))
	layoutDir := filepath.Join(dir, "layout")
	apkooracle.Untar(t, filepath.Join(dir, "image.tar"), layoutDir)
	apkoFS, apkoCfg := readLayout(t, layoutDir)
	fs, cfg := buildOurs(t, dir, filepath.Join(dir, "apko.lock.json"), filepath.Join(dir, "apko.yaml"), "./repo", nil)
	for _, p := range []string{"etc/ssl/certs/.ca-certificates.crt.sha256", "kaniko/ssl/certs/.ca-certificates.crt.sha256",
		"etc/ssl/certs/java/.cacerts.sha256", "etc/apk/keys/corp-runtime.rsa.pub", "etc/apk/keys/a-runtime.rsa.pub"} {
		if _, ok := apkoFS[p]; !ok {
			t.Errorf("apko's image has no /%s: the test no longer exercises what it says", p)
		}
	}
	if b := apkoFS["etc/ssl/certs/ca-certificates.crt"].data; strings.Count(b, "BEGIN CERTIFICATE") != 6 {
		t.Errorf("apko's bundle has %d certificates, want 6 (1 + 3 additional + 2 provided):\n%s", strings.Count(b, "BEGIN CERTIFICATE"), b)
	}
	compare(t, "the image apko v1.2.39 builds with certificates and runtime_keyring", apkoFS, apkoCfg, fs, cfg)
}
