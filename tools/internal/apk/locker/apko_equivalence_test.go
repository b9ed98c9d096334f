//go:build e2e

package locker

// Equivalence with apko v1.2.39's own lock tests (read through the Go module cache, copied
// to a temporary directory at run time, never committed):
//
//	go test -tags e2e -run Apko ./tools/internal/apk/locker/

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
)

func apkoTestdata(t *testing.T) string {
	t.Helper()
	return filepath.Join(apkooracle.ModuleDir(t), "internal", "cli", "testdata")
}

// apko's TestLock runs `apko lock apko.yaml` in internal/cli (relative paths in the
// configuration are relative to that directory) and compares with testdata/apko.lock.json.
// Our lock of the same configuration, against the same local repository, is byte-identical.
func TestApkoLockEquivalence(t *testing.T) {
	src := apkoTestdata(t)
	work := t.TempDir()
	if err := os.CopyFS(filepath.Join(work, "testdata"), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	o := Options{
		ConfigPath: filepath.Join(work, "testdata", "apko.yaml"),
		ConfigName: "apko.yaml",
		Dir:        work,
		LockPath:   filepath.Join(work, "apko.lock.json"),
	}
	got, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(src, "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("our lock differs from apko's testdata/apko.lock.json:\n%s", got)
	}
	os.WriteFile(o.LockPath, got, 0o644)
	if err := Check(o); err != nil {
		t.Fatal(err)
	}
}

// Every lock apko ships in its testdata parses; the ones in the current shape are written
// back byte for byte.
func TestApkoLocksParse(t *testing.T) {
	src := apkoTestdata(t)
	var n int
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".json" || !bytes.Contains([]byte(d.Name()), []byte("lock")) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		l, err := lockfile.Parse(b)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		n++
		out, err := lockfile.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		current := bytes.Contains(b, []byte(`"build_repositories"`)) && bytes.Contains(b, []byte(`"config"`))
		if current && !bytes.Equal(out, b) {
			t.Errorf("%s does not round-trip", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("parsed %d locks, want at least 4", n)
	}
}
