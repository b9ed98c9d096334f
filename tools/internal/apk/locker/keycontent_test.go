package locker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

// As apko v1.2.39's lock: each keyring entry carries its key, and a key that cannot be read
// is named.
func TestLockEmbedsKeys(t *testing.T) {
	repo, err := filepath.Abs(srctree.Path(t, "examples/apk_repo"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(key string) Options {
		cfg := "contents:\n  keyring: [" + key + "]\n  repositories: [" + repo + "]\n  packages: [wharf-motd]\narchs: [x86_64]\n"
		os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(cfg), 0o644)
		return Options{ConfigPath: filepath.Join(dir, "apko.yaml"), LockPath: filepath.Join(dir, "apko.lock.json")}
	}
	b, err := Generate(write(filepath.Join(repo, "wharf-example.rsa.pub")))
	if err != nil {
		t.Fatal(err)
	}
	l, err := lockfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(repo, "wharf-example.rsa.pub"))
	if len(l.Contents.Keyring) != 1 || l.Contents.Keyring[0].Content != string(want) {
		t.Fatalf("keyring %+v, want the key's content", l.Contents.Keyring)
	}
	_, err = Generate(write("./gone.rsa.pub"))
	if err == nil || !strings.Contains(err.Error(), "keyring ./gone.rsa.pub: open ") {
		t.Fatalf("missing key: %v", err)
	}
}
