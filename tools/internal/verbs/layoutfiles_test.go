package verbs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// pulledLayout writes a layout with one random image (as oci_pull lays it out) and returns
// its directory and every file in it.
func pulledLayout(t *testing.T) (string, []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	img, err := random.Image(2048, 3)
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, path)
		}
		return err
	})
	return dir, files
}

func TestLayoutFiles(t *testing.T) {
	dir, files := pulledLayout(t)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"--root", dir, "--out", out}
	for _, f := range files {
		args = append(args, "--file", f)
	}
	if err := layoutFilesVerb(args); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatal(err)
	}
}

func TestLayoutFilesRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(t *testing.T, dir string, files []string) []string
		want   string
	}{
		"missing layer": {func(t *testing.T, dir string, files []string) []string {
			var keep []string
			for _, f := range files {
				if st, _ := os.Stat(f); st.Size() < 2048 || !strings.Contains(f, "blobs") {
					keep = append(keep, f)
				}
			}
			return keep
		}, "is missing"},
		"truncated layer": {func(t *testing.T, dir string, files []string) []string {
			for _, f := range files {
				if st, _ := os.Stat(f); st.Size() >= 2048 && strings.Contains(f, "blobs") {
					os.Truncate(f, 100)
					return files
				}
			}
			t.Fatal("no layer")
			return nil
		}, "has 100 bytes"},
		"changed config": {func(t *testing.T, dir string, files []string) []string {
			for _, f := range files {
				if b, _ := os.ReadFile(f); strings.Contains(string(b), `"rootfs"`) {
					os.WriteFile(f, append(b, ' '), 0o644)
					return files
				}
			}
			t.Fatal("no config")
			return nil
		}, "has digest"},
		"no index": {func(t *testing.T, dir string, files []string) []string {
			var keep []string
			for _, f := range files {
				if filepath.Base(f) != "index.json" {
					keep = append(keep, f)
				}
			}
			return keep
		}, "has no index.json"},
		"outside": {func(t *testing.T, dir string, files []string) []string {
			return append(files, filepath.Join(filepath.Dir(dir), "elsewhere"))
		}, "is not under"},
	} {
		t.Run(name, func(t *testing.T) {
			dir, files := pulledLayout(t)
			files = tc.mutate(t, dir, files)
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"--root", dir, "--out", out}
			for _, f := range files {
				args = append(args, "--file", f)
			}
			err := layoutFilesVerb(args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output left behind: %v", err)
			}
		})
	}
}
