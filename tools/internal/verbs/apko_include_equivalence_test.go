//go:build e2e

package verbs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/locker"
)

// TestApkoEquivalenceInclude: an apko.yaml that includes another (apko v1.2.39 still reads
// `include`): apko locks and builds it; `wharf lock` writes the same lock byte for byte (its
// config checksum covers both files, as apko's), and our verbs build the same rootfs and
// config (lists merged included first, maps key by key, single values from the includer).
func TestApkoEquivalenceInclude(t *testing.T) {
	apko := apkooracle.Binary(t)
	repo, err := filepath.Abs(filepath.Join("..", "..", "..", "examples", "apk_repo"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Relative paths, as buildOurs resolves the lock's URLs against dir.
	if err := os.Symlink(repo, filepath.Join(dir, "repo")); err != nil {
		t.Fatal(err)
	}
	base := `contents:
  keyring: [./repo/wharf-example.rsa.pub]
  repositories: [./repo]
  packages: [wharf-baselayout]
archs: [x86_64]
cmd: from-base
work-dir: /base
environment: {A: base, B: base}
annotations: {org.example.base: "1"}
volumes: [/base]
accounts:
  run-as: app
  users: [{username: app, uid: 1000}]
  groups: [{groupname: app, gid: 1000}]
paths:
  - {path: /base, type: directory, permissions: 0o755}
`
	top := `include: base.yaml
contents:
  packages: [wharf-motd]
work-dir: /top
environment: {B: top, C: top}
volumes: [/top]
accounts:
  users: [{username: svc, uid: 1001}]
paths:
  - {path: /top, type: directory, uid: 1001, permissions: 0o750}
`
	os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(base), 0o644)
	os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(top), 0o644)
	mustApko(t, apko, dir, "lock", "apko.yaml", "--output", "apko.lock.json")
	ours, err := locker.Generate(locker.Options{ConfigPath: filepath.Join(dir, "apko.yaml"), LockPath: filepath.Join(dir, "ours.lock.json")})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(filepath.Join(dir, "apko.lock.json")); !bytes.Equal(ours, want) {
		t.Errorf("our lock differs from apko's:\n--- apko\n%s\n--- rules_wharf\n%s", want, ours)
	}
	apkoFS, apkoCfg := apkoImage(t, apko, dir)
	fs, cfg := buildOurs(t, dir, filepath.Join(dir, "apko.lock.json"), filepath.Join(dir, "apko.yaml"), "./repo", nil)
	for _, p := range []string{"base", "top", "etc/motd"} {
		if _, ok := apkoFS[p]; !ok {
			t.Errorf("apko's image has no /%s: the include is not what the test says", p)
		}
	}
	compare(t, "the image apko v1.2.39 builds from a configuration with include", apkoFS, apkoCfg, fs, cfg)
}
