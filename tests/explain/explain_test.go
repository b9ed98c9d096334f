// Package explain_test runs `bazel run //tests/explain:image.explain`'s launcher as a user
// would, on an image whose last layer replaces a file an APK package installed.
package explain_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runfile is a data file's path: the test runs in its package's directory of the runfiles.
// The files are Bazel outputs: `go test ./...` skips.
func runfile(t *testing.T, env string) string {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") == "" || os.Getenv(env) == "" {
		t.Skip("needs the image built by Bazel: bazel test //tests/explain:explain_test")
	}
	return filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), os.Getenv(env))
}

func explain(t *testing.T, paths ...string) (string, error) {
	t.Helper()
	return run(t, "EXPLAIN", paths...)
}

func run(t *testing.T, launcher string, paths ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(runfile(t, launcher), paths...).CombinedOutput()
	return string(out), err
}

func TestReplacedFileNamesBothOwners(t *testing.T) {
	out, err := explain(t, "/etc/os-release", "/etc/os-release.link")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := regexp.MustCompile(`(?m)^/etc/os-release \(file 0644\)
  from layer (\d+) \(sha256:[0-9a-f]{64}\): //tests/explain:etc
  replaced layer (\d+) \(sha256:[0-9a-f]{64}\): package wharf-baselayout@\S+ .*
/etc/os-release.link \(symlink 0777\)
  symlink to os-release \(resolves to /etc/os-release, from layer \d+ \(sha256:[0-9a-f]{64}\): //tests/explain:etc\)
  from layer \d+ \(sha256:[0-9a-f]{64}\): //tests/explain:etc
$`)
	if !want.MatchString(out) {
		t.Errorf("explain printed:\n%s\nwant it to match\n%s", out, want)
	}
}

func TestMissingPathIsNamed(t *testing.T) {
	out, err := explain(t, "/etc/os-releas")
	if err == nil {
		t.Fatalf("explain of a missing path succeeded: %s", out)
	}
	want := "wharf: explain: //tests/explain:image:\n/etc/os-releas is not in the image; did you mean /etc/os-release"
	if !strings.Contains(out, want) {
		t.Errorf("explain printed:\n%s\nwant it to contain %q", out, want)
	}
}

// TestDocumentListsEveryLayer checks the files document: one entry per layer, each listed,
// and every path once, sorted.
func TestDocumentListsEveryLayer(t *testing.T) {
	b, err := os.ReadFile(runfile(t, "FILES"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Layers []struct {
			Index   int    `json:"index"`
			Entries string `json:"entries"`
		} `json:"layers"`
		Files []struct {
			Path string `json:"path"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Layers) < 3 {
		t.Fatalf("%d layers", len(d.Layers))
	}
	for i, l := range d.Layers {
		if l.Index != i || l.Entries != "listed" {
			t.Errorf("layer %d: %+v", i, l)
		}
	}
	for i := 1; i < len(d.Files); i++ {
		if d.Files[i-1].Path >= d.Files[i].Path {
			t.Errorf("paths out of order or twice: %s, %s", d.Files[i-1].Path, d.Files[i].Path)
		}
	}
}

// TestLayoutBaseLayersAreNamed: on a layout directory as base, the image's own layer is
// explained (numbered above the base's) and a path elsewhere is said to be possibly in the
// base's unlisted layers.
func TestLayoutBaseLayersAreNamed(t *testing.T) {
	out, err := run(t, "EXPLAIN_ON_LAYOUT", "/etc/os-release")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !regexp.MustCompile(`^/etc/os-release \(file 0644\)\n  from layer [1-9]\d* \(sha256:[0-9a-f]{64}\): //tests/explain:etc\n$`).MatchString(out) {
		t.Errorf("explain printed:\n%s", out)
	}
	out, err = run(t, "EXPLAIN_ON_LAYOUT", "/usr/bin/hello")
	want := "/usr/bin/hello is in none of the image's listed layers; the layers 0, 1, 2, 3, 4 of base image //examples/hello_image:image_layout are not listed (their entries are known only by unpacking them, which explain does not do), so it may be in one of them"
	if err == nil || !strings.Contains(out, want) {
		t.Errorf("explain printed (%v):\n%s\nwant it to contain %q", err, out, want)
	}
}
