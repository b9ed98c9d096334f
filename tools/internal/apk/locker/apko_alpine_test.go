//go:build e2e

package locker

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/resolve"
)

// Resolution on a real index: Alpine 3.16 x86_64 main (from apko v1.2.39's module,
// re-signed with a test key since its signing key is not shipped), `apko show-packages`
// (apko's resolver, no package downloads) against ours, for several worlds.
//
//	go test -tags e2e -run TestApkoResolutionAgreesOnAlpine ./tools/internal/apk/locker/
func TestApkoResolutionAgreesOnAlpine(t *testing.T) {
	apko := apkooracle.Binary(t)
	modDir := apkooracle.ModuleDir(t)
	f, err := os.Open(filepath.Join(modDir, "pkg", "apk", "apk", "testdata", "alpine-316", "APKINDEX.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := index.ParseIndex(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	key, err := apktest.NewKey("test.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := apktest.SignatureMember(key, idx.Signed, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "repo", "x86_64"), 0o755)
	os.WriteFile(filepath.Join(dir, "repo", "x86_64", "APKINDEX.tar.gz"), append(sig, idx.Signed...), 0o644)
	os.WriteFile(filepath.Join(dir, "test.rsa.pub"), key.PublicPEM(), 0o644)
	repo := &resolve.Repository{Name: "./repo", Entries: idx.Entries}

	// apko misses install_if packages whose conditions were completed by an earlier world
	// package's dependencies (it looks only at the packages it walked for the current one):
	// here ssl_client (install_if libssl1.1 busybox), which apk itself installs. We install
	// it; the test pins down that this is the only difference.
	apkoOmits := map[string]string{
		"curl,ca-certificates,tzdata":               "ssl_client-1.35.0-r17",
		"busybox<=1.35.0-r17,zlib~1.2,pc:libcrypto": "ssl_client-1.35.0-r17",
	}
	for _, world := range [][]string{
		{"busybox"},
		{"python3"},
		{"bash", "coreutils"},
		{"git", "openssh-client"},
		{"curl", "ca-certificates", "tzdata"},
		{"nginx"},
		{"cmd:sh", "so:libz.so.1", "postgresql14-client"},
		{"alpine-base"},
		{"gcc", "make", "perl"},
		{"busybox<=1.35.0-r17", "zlib~1.2", "pc:libcrypto"},
		{"openrc", "bash", "doas"},
		{"ruby", "nodejs", "cmd:ssh"},
	} {
		t.Run(strings.Join(world, ","), func(t *testing.T) {
			cfg := fmt.Sprintf("contents:\n  keyring: [./test.rsa.pub]\n  repositories: [./repo]\n  packages: [%s]\narchs: [x86_64]\n", strings.Join(world, ", "))
			os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(cfg), 0o644)
			cmd := exec.Command(apko, "show-packages", "apko.yaml", "--format", "{{.Name}}-{{.Version}}", "--cache-dir", filepath.Join(dir, "cache"))
			cmd.Dir = dir
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("apko show-packages: %v\n%s", err, stderr.String())
			}
			want := strings.Join(strings.Fields(stdout.String()), " ")
			res, err := resolve.Resolve([]*resolve.Repository{repo}, world)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range res.Packages {
				if p.Label() != apkoOmits[strings.Join(world, ",")] {
					got = append(got, p.Label())
				}
			}
			if omit := apkoOmits[strings.Join(world, ",")]; omit != "" && len(got) == len(res.Packages) {
				t.Errorf("we no longer install %s", omit)
			}
			if strings.Join(got, " ") != want {
				t.Errorf("apko: %s\nours: %s", want, strings.Join(got, " "))
			}
		})
	}
}
