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
func runfile(env string) string {
	return filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), os.Getenv(env))
}

func explain(t *testing.T, paths ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(runfile("EXPLAIN"), paths...).CombinedOutput()
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
	b, err := os.ReadFile(runfile("FILES"))
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
