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

// TestLayoutVerbsLeaveOthersDirectoriesAlone: a failing `layout` or `layout-files` run must
// not delete an --out it did not make (it did, with os.RemoveAll), and a successful one must
// not merge into a directory that holds someone's files.
func TestLayoutVerbsLeaveOthersDirectoriesAlone(t *testing.T) {
	dir, files := pulledLayout(t)
	userDir := func(t *testing.T) string {
		out := filepath.Join(t.TempDir(), "mine")
		os.Mkdir(out, 0o755)
		os.WriteFile(filepath.Join(out, "notes.txt"), []byte("keep me"), 0o644)
		return out
	}
	kept := func(t *testing.T, out string) {
		t.Helper()
		es, _ := os.ReadDir(out)
		b, _ := os.ReadFile(filepath.Join(out, "notes.txt"))
		if len(es) != 1 || string(b) != "keep me" {
			t.Fatalf("%s now holds %d entries, notes.txt %q: the verb changed a directory it did not make", out, len(es), b)
		}
		parent, _ := os.ReadDir(filepath.Dir(out))
		if len(parent) != 1 {
			t.Fatalf("debris beside %s: %v", out, parent)
		}
	}
	fileArgs := func(out string, files []string) []string {
		args := []string{"--root", dir, "--out", out}
		for _, f := range files {
			args = append(args, "--file", f)
		}
		return args
	}
	t.Run("layout-files fails", func(t *testing.T) {
		out := userDir(t)
		err := layoutFilesVerb(fileArgs(out, files[:len(files)-1]))
		if err == nil {
			t.Fatal("a layout with a blob missing was accepted")
		}
		t.Logf("message: %v", err)
		kept(t, out)
	})
	t.Run("layout-files succeeds over a user's directory", func(t *testing.T) {
		out := userDir(t)
		err := layoutFilesVerb(fileArgs(out, files))
		if err == nil || !strings.Contains(err.Error(), "exists and is not an empty directory; it was left as it is") {
			t.Fatalf("got %v", err)
		}
		t.Logf("message: %v", err)
		kept(t, out)
	})
	t.Run("layout fails", func(t *testing.T) {
		out := userDir(t)
		desc := filepath.Join(t.TempDir(), "desc.json")
		os.WriteFile(desc, []byte(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}`), 0o644)
		tmp := t.TempDir()
		blob, app, meta := filepath.Join(tmp, "manifest"), filepath.Join(tmp, "app"), filepath.Join(tmp, "l.json")
		os.WriteFile(blob, []byte("{}"), 0o644)
		os.WriteFile(app, []byte("x"), 0o644)
		if err := layerVerb([]string{"--file", "/app=" + app, "--blob", filepath.Join(tmp, "l.tgz"), "--metadata", meta}); err != nil {
			t.Fatal(err)
		}
		// The layer's metadata is there, its blob is not: the copy fails halfway.
		err := layoutVerb([]string{"--descriptor", desc, "--blob", blob, "--layer", filepath.Join(tmp, "gone.tgz") + "=" + meta, "--out", out})
		if err == nil {
			t.Fatal("a layer blob that does not exist was accepted")
		}
		t.Logf("message: %v", err)
		kept(t, out)
	})
}
