//go:build e2e

package locker

// `apko lock` (the v1.2.39 binary) and `wharf lock` on the same generated repositories and
// configurations must write the same bytes:
//
//	go test -tags e2e -run TestApkoLockAgrees ./tools/internal/apk/locker/

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

// repoPackages is a small distribution: two libcs, two shells behind cmd:sh with different
// provider priorities, shared libraries behind so: names, pc: names, several versions of
// one package (one a pre-release), a chain of dependencies and a diamond.
func repoPackages(arch string) []apktest.Package {
	libc := "so:libc.musl-" + arch + ".so.1"
	return []apktest.Package{
		{Name: "musl", Version: "1.2.4-r0", Origin: "musl", Provides: []string{libc + "=1"}},
		{Name: "musl", Version: "1.2.5-r3", Origin: "musl", Provides: []string{libc + "=1"}},
		{Name: "busybox", Version: "1.37.0-r2", Origin: "busybox", Depends: []string{libc}, Provides: []string{"cmd:sh=1.37.0-r2", "/bin/sh"}, ProviderPriority: 100},
		{Name: "dash", Version: "0.5.12-r1", Origin: "dash", Depends: []string{libc}, Provides: []string{"cmd:sh=0.5.12-r1", "/bin/sh"}, ProviderPriority: 10},
		{Name: "zlib", Version: "1.3.1-r0", Origin: "zlib", Depends: []string{libc}, Provides: []string{"so:libz.so.1=1.3.1", "pc:zlib=1.3.1"}},
		{Name: "zlib", Version: "1.2.13-r0", Origin: "zlib", Depends: []string{libc}, Provides: []string{"so:libz.so.1=1.2.13", "pc:zlib=1.2.13"}},
		{Name: "libcrypto3", Version: "3.3.2-r0", Origin: "openssl", Depends: []string{libc}, Provides: []string{"so:libcrypto.so.3=3"}},
		{Name: "libssl3", Version: "3.3.2-r0", Origin: "openssl", Depends: []string{libc, "so:libcrypto.so.3"}, Provides: []string{"so:libssl.so.3=3"}},
		{Name: "ca-certificates-bundle", Version: "20240705-r0", Origin: "ca-certificates"},
		{Name: "libcurl", Version: "8.10.1-r0", Origin: "curl", Depends: []string{libc, "so:libssl.so.3", "so:libcrypto.so.3", "so:libz.so.1", "ca-certificates-bundle"}, Provides: []string{"so:libcurl.so.4=4.8.0"}},
		{Name: "curl", Version: "8.10.1-r0", Origin: "curl", Depends: []string{libc, "so:libcurl.so.4", "so:libz.so.1"}, Provides: []string{"cmd:curl=8.10.1-r0"}},
		{Name: "tool", Version: "1.0-r0", Origin: "tool", Depends: []string{"cmd:sh"}},
		{Name: "tool", Version: "2.0-r0", Origin: "tool", Depends: []string{"cmd:sh"}},
		{Name: "tool", Version: "3.0_rc1-r0", Origin: "tool", Depends: []string{"cmd:sh"}},
		{Name: "app", Version: "1.4.2-r1", Origin: "app", Depends: []string{"curl", "zlib>1.2", "cmd:sh", "tool"}},
	}
}

// writeFile writes b to p, making its directory.
func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestApkoLockAgrees(t *testing.T) {
	apko := apkooracle.Binary(t)
	key, err := apktest.NewKey("test.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeArchRepo(t, filepath.Join(dir, "repo"), "test", key, func(arch string) []apktest.Package {
		var pkgs []apktest.Package
		for _, p := range repoPackages(arch) {
			pkgs = append(pkgs, withFile(p, p.Version+" "+arch))
		}
		return pkgs
	})
	// A second repository: a newer tool, and the same dash version built differently (the
	// repository first in sorted order wins, as in apko, whatever the configuration's order).
	writeArchRepo(t, filepath.Join(dir, "a-repo2"), "test2", key, func(arch string) []apktest.Package {
		return []apktest.Package{
			withFile(apktest.Package{Name: "tool", Version: "2.5-r0", Origin: "tool", Depends: []string{"cmd:sh"}}, "repo2 "+arch),
			withFile(apktest.Package{Name: "dash", Version: "0.5.12-r1", Origin: "dash", Depends: []string{"so:libc.musl-" + arch + ".so.1"}, Provides: []string{"cmd:sh=0.5.12-r1", "/bin/sh"}, ProviderPriority: 10}, "repo2 "+arch),
		}
	})
	writeFile(t, filepath.Join(dir, "keys", "test.rsa.pub"), key.PublicPEM())

	for i, world := range []string{
		"[app]\n  build_repositories:\n    - ./a-repo2",
		"[dash, tool]\n  runtime_repositories:\n    - https://example.com/runtime",
		"[app, tool<3, so:libz.so.1]",
		"[tool=1.0-r0, curl, cmd:sh]",
		"[dash, tool, zlib~1.2]",
		"[libcurl, musl<1.2.5, ca-certificates-bundle]",
		"[pc:zlib, /bin/sh, tool>2.0]",
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkApkoLockAgrees(t, apko, dir, i, world) })
	}
}

// checkApkoLockAgrees: apko and Generate write the same lock for the world in dir (world 1
// also lists the second repository), and apko's lock passes Check.
func checkApkoLockAgrees(t *testing.T, apko, dir string, i int, world string) {
	t.Helper()
	repos := "./repo"
	if i == 1 {
		repos = "./repo\n    - ./a-repo2"
	}
	cfg := fmt.Sprintf("contents:\n  keyring:\n    - ./keys/test.rsa.pub\n  repositories:\n    - %s\n  packages: %s\narchs:\n  - x86_64\n  - aarch64\n", repos, world)
	writeFile(t, filepath.Join(dir, "apko.yaml"), []byte(cfg))
	cmd := exec.Command(apko, "lock", "apko.yaml", "--output", "apko.lock.json", "--cache-dir", filepath.Join(dir, "cache"))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apko lock %s: %v\n%s", world, err, out)
	}
	want, err := os.ReadFile(filepath.Join(dir, "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if i == 1 && !bytes.Contains(want, []byte(`"./a-repo2/x86_64/dash-0.5.12-r1.apk"`)) {
		t.Fatalf("apko did not take dash from the first repository in sorted order:\n%s", want)
	}
	got, err := Generate(Options{ConfigPath: filepath.Join(dir, "apko.yaml"), LockPath: filepath.Join(dir, "ours.lock.json")})
	if err != nil {
		t.Fatalf("%s: %v", world, err)
	}
	if !bytes.Equal(got, want) {
		writeFile(t, filepath.Join(dir, "ours.lock.json"), got)
		diff, _ := exec.Command("diff", "-u", filepath.Join(dir, "apko.lock.json"), filepath.Join(dir, "ours.lock.json")).CombinedOutput()
		t.Fatalf("%s: our lock differs from apko's:\n%s", world, diff)
	}
	if err := Check(Options{ConfigPath: filepath.Join(dir, "apko.yaml"), LockPath: filepath.Join(dir, "apko.lock.json")}); err != nil {
		t.Fatalf("apko's lock fails our --check: %v", err)
	}
}

// writeArchRepo builds each architecture's packages and writes them and their index
// (signed with key, with the description) under dir/<arch>.
func writeArchRepo(t *testing.T, dir, description string, key *apktest.Key, pkgs func(arch string) []apktest.Package) {
	t.Helper()
	for _, arch := range []string{"x86_64", "aarch64"} {
		var built []*apktest.Built
		for _, p := range pkgs(arch) {
			p.Arch = arch
			b, err := apktest.Build(p, key)
			if err != nil {
				t.Fatal(err)
			}
			built = append(built, b)
			writeFile(t, filepath.Join(dir, arch, p.Name+"-"+p.Version+".apk"), b.APK)
		}
		idx, err := apktest.Index(built, key, description)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, arch, "APKINDEX.tar.gz"), idx)
	}
}

// withFile gives p one file, /usr/share/<name>, holding content.
func withFile(p apktest.Package, content string) apktest.Package {
	p.Files = []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/share", Dir: true}, {Path: "usr/share/" + p.Name, Content: content}}
	return p
}

// The committed example lock is what `apko lock apko.yaml`, run in examples/hello_image,
// writes.
func TestApkoLockAgreesOnExample(t *testing.T) {
	apko := apkooracle.Binary(t)
	dir, err := filepath.Abs(srctree.Path(t, "examples/hello_image"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "apko.lock.json")
	cmd := exec.Command(apko, "lock", "apko.yaml", "--output", out, "--cache-dir", filepath.Join(t.TempDir(), "cache"))
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apko lock: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("examples/hello_image/apko.lock.json differs from what apko lock writes:\n%s", want)
	}
}
