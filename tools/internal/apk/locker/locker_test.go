package locker

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

// Runs from this directory under `go test` and in Bazel's runfiles tree alike.

// The committed example lock is exactly what locking examples/hello_image/apko.yaml
// against examples/apk_repo gives (`bazel run //examples/hello_image:lock`).
func TestExampleLockIsCurrent(t *testing.T) {
	o := Options{ConfigPath: srctree.Path(t, "examples/hello_image/apko.yaml"), LockPath: srctree.Path(t, "examples/hello_image/apko.lock.json")}
	got, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(o.LockPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("examples/hello_image/apko.lock.json is stale; run `tools/bazel run //examples/hello_image:lock`. Generated:\n%s", got)
	}
	if err := Check(o); err != nil {
		t.Fatal(err)
	}
}

// The committed dev-variant example's locks are what `bazel run //examples/dev_image:lock`
// writes: the configuration's, and the configuration's plus its dev package.
func TestExampleDevLocksAreCurrent(t *testing.T) {
	o := Options{ConfigPath: srctree.Path(t, "examples/dev_image/apko.yaml"), LockPath: srctree.Path(t, "examples/dev_image/apko.lock.json")}
	dev := o
	dev.LockPath, dev.PackageAppend = srctree.Path(t, "examples/dev_image/apko.dev.lock.json"), []string{"wharf-motd"}
	for _, o := range []Options{o, dev} {
		got, err := Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		if want, err := os.ReadFile(o.LockPath); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s is stale (%v); run `tools/bazel run //examples/dev_image:lock`. Generated:\n%s", o.LockPath, err, got)
		}
		if err := Check(o); err != nil {
			t.Fatal(err)
		}
	}
}

// A lock elsewhere than the configuration records local paths relative to itself.
func TestLocalPathsAreRelativeToTheLock(t *testing.T) {
	dir := t.TempDir()
	cfg, err := os.ReadFile(srctree.Path(t, "examples/hello_image/apko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(srctree.Path(t, "examples/apk_repo"))
	cfg = bytes.ReplaceAll(cfg, []byte("../apk_repo"), []byte(abs))
	// Relative paths: configuration in dir/conf, repository path relative to it.
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	relRepo, _ := filepath.Rel(conf, abs)
	os.WriteFile(filepath.Join(conf, "apko.yaml"), bytes.ReplaceAll(cfg, []byte(abs), []byte(filepath.ToSlash(relRepo))), 0o644)
	o := Options{ConfigPath: filepath.Join(conf, "apko.yaml"), LockPath: filepath.Join(dir, "locks", "x", "apko.lock.json")}
	b, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lockfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	lockDir := filepath.Dir(o.LockPath)
	for _, p := range l.Contents.Packages {
		if filepath.IsAbs(p.URL) {
			t.Fatalf("absolute URL %s", p.URL)
		}
		if _, err := os.Stat(filepath.Join(lockDir, p.URL)); err != nil {
			t.Fatalf("package URL %s is not relative to the lock: %v", p.URL, err)
		}
	}
	if _, err := os.Stat(filepath.Join(lockDir, l.Contents.Keyring[0].URL)); err != nil {
		t.Fatalf("keyring URL %s is not relative to the lock", l.Contents.Keyring[0].URL)
	}
	if l.Config.Name != "apko.yaml" {
		t.Fatalf("config name %q", l.Config.Name)
	}
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(o.LockPath, b, 0o644)
	if err := Check(o); err != nil {
		t.Fatal(err)
	}
}

// A staleCase edits the example's configuration and lock and says what --check reports.
type staleCase struct {
	name       string
	edit       func(cfg, lock []byte) ([]byte, []byte)
	want       []string
	wantStatus bool // true: fresh
}

// configEdit replaces old with repl, once, in the configuration.
func configEdit(old, repl string) func(c, l []byte) ([]byte, []byte) {
	return func(c, l []byte) ([]byte, []byte) { return bytes.Replace(c, []byte(old), []byte(repl), 1), l }
}

// lockEdit changes the parsed lock.
func lockEdit(change func(*lockfile.Lock)) func(c, l []byte) ([]byte, []byte) {
	return func(c, l []byte) ([]byte, []byte) {
		lk, _ := lockfile.Parse(l)
		change(lk)
		nb, _ := lockfile.Marshal(lk)
		return c, nb
	}
}

var staleCases = []staleCase{
	{"unchanged", func(c, l []byte) ([]byte, []byte) { return c, l }, nil, true},
	{"comment only", func(c, l []byte) ([]byte, []byte) { return append(c, "# note\n"...), l },
		[]string{"apko.yaml changed since the lock was written"}, false},
	{"package added", configEdit("    - wharf-motd\n", "    - wharf-motd\n    - wharf-extra\n"),
		[]string{"apko.yaml changed", `x86_64: no locked package is named "wharf-extra"`, `aarch64: no locked package is named "wharf-extra"`}, false},
	{"version constraint", configEdit("    - wharf-motd\n", "    - wharf-motd>2.1.0-r1\n"),
		[]string{`the lock has wharf-motd-2.1.0-r1 (x86_64), which does not satisfy "wharf-motd>2.1.0-r1"`}, false},
	{"fuzzy constraint", configEdit("    - wharf-motd\n", "    - wharf-motd<~2.0\n"),
		[]string{`the lock has wharf-motd-2.1.0-r1 (x86_64), which does not satisfy "wharf-motd<~2.0"`}, false},
	{"invalid version", configEdit("    - wharf-motd\n", "    - wharf-motd>=2.1a1\n"),
		[]string{`constraint "wharf-motd>=2.1a1": "2.1a1" is not an apk version`, `invalid at "1"`}, false},
	{"keyring", configEdit("wharf-example.rsa.pub", "other.rsa.pub"),
		[]string{"keyring: lock has [../apk_repo/wharf-example.rsa.pub], configuration has [../apk_repo/other.rsa.pub]"}, false},
	{"repository", configEdit("    - ../apk_repo\n", "    - ../apk_repo\n    - https://example.com/main\n"),
		[]string{"repositories: lock has [x86_64:../apk_repo, aarch64:../apk_repo], configuration has [x86_64:../apk_repo, x86_64:example.com/main, aarch64:../apk_repo, aarch64:example.com/main]"}, false},
	{"arch", configEdit("  - aarch64\n", ""),
		[]string{"architectures: lock has [x86_64, aarch64], configuration has [x86_64]"}, false},
	{"lock without config, package missing", lockEdit(func(lk *lockfile.Lock) {
		lk.Config = nil
		lk.Contents.Packages = lk.Contents.Packages[1:]
	}), []string{"no locked package is named \"wharf-greeting\""}, false},
	{"lock without config, fresh otherwise", lockEdit(func(lk *lockfile.Lock) { lk.Config = nil }), nil, true},
	{"data entry missing", lockEdit(func(lk *lockfile.Lock) { lk.Contents.Packages[1].Data = lockfile.Range{} }),
		[]string{"package wharf-baselayout-1.0.0-r0 (x86_64) (packages[1]): no data range and checksum, which every lock apko or wharf writes has"}, false},
	{"package named ../../evil", func(c, l []byte) ([]byte, []byte) {
		return c, bytes.Replace(l, []byte(`"name": "wharf-motd"`), []byte(`"name": "../../evil"`), 1)
	}, []string{`apko.lock.json: package ../../evil (packages[2]): name "../../evil" is not usable: it contains a path separator`}, false},
	{"malformed lock", func(c, l []byte) ([]byte, []byte) { return c, l[:len(l)/2] }, []string{"apko.lock.json: not valid JSON: line "}, false},
	{"no lock", func(c, l []byte) ([]byte, []byte) { return c, nil }, []string{"the lock does not exist"}, false},
}

func TestCheckStale(t *testing.T) {
	cfg, err := os.ReadFile(srctree.Path(t, "examples/hello_image/apko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(srctree.Path(t, "examples/hello_image/apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The copies sit where the originals do relative to each other (the lock's URLs
	// stay valid but are never read: --check is offline).
	for _, c := range staleCases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "hello_image")
			os.MkdirAll(dir, 0o755)
			nc, nl := c.edit(cfg, lock)
			os.WriteFile(filepath.Join(dir, "apko.yaml"), nc, 0o644)
			if nl != nil {
				os.WriteFile(filepath.Join(dir, "apko.lock.json"), nl, 0o644)
			}
			err := Check(Options{ConfigPath: filepath.Join(dir, "apko.yaml"), LockPath: filepath.Join(dir, "apko.lock.json")})
			if c.wantStatus {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("stale lock passed --check")
			}
			var stale *StaleError
			if !errors.As(err, &stale) && !strings.Contains(err.Error(), "JSON") && !strings.Contains(err.Error(), "not usable") {
				t.Fatalf("not a StaleError: %v", err)
			}
			t.Logf("message: %v", err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

// file:// URLs and a tagged repository: URLs are recorded as they are, the tag is not.
func TestFileURLsAndTaggedRepository(t *testing.T) {
	abs, err := filepath.Abs(srctree.Path(t, "examples/apk_repo"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := "contents:\n  keyring: [file://" + abs + "/wharf-example.rsa.pub]\n  repositories: [\"@ex file://" + abs + "\"]\n  packages: [wharf-motd@ex]\narchs: [x86_64]\n"
	os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(cfg), 0o644)
	o := Options{ConfigPath: filepath.Join(dir, "apko.yaml"), LockPath: filepath.Join(dir, "apko.lock.json")}
	b, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lockfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Contents.Packages) != 2 || l.Contents.Packages[1].URL != "file://"+abs+"/x86_64/wharf-motd-2.1.0-r1.apk" || l.Contents.Packages[0].Name != "wharf-baselayout" {
		t.Fatalf("packages %+v", l.Contents.Packages)
	}
	if r := l.Contents.Repositories[0]; r.Name != "file://"+abs+"/x86_64" || r.URL != "file://"+abs+"/x86_64/APKINDEX.tar.gz" {
		t.Fatalf("repository %+v", r)
	}
	if k := l.Contents.Keyring[0]; k.URL != "file://"+abs+"/wharf-example.rsa.pub" {
		t.Fatalf("keyring %+v", k)
	}
	os.WriteFile(o.LockPath, b, 0o644)
	if err := Check(o); err != nil {
		t.Fatal(err)
	}
	// Without the tag, nothing in the tagged repository is eligible.
	os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(strings.Replace(cfg, "wharf-motd@ex", "wharf-motd", 1)), 0o644)
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "only for @ex") {
		t.Fatalf("untagged constraint on a tagged repository: %v", err)
	}
}
