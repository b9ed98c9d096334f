package verbs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// pulledLayout writes a layout with one random image (as oci_pull lays it out) and returns
// its directory and every file in it.
func pulledLayout(t *testing.T) (string, []string) {
	t.Helper()
	img, err := random.Image(2048, 3)
	if err != nil {
		t.Fatal(err)
	}
	return layoutOf(t, img)
}

// layoutOf writes img as oci_pull lays it out; returns the directory and its files.
func layoutOf(t *testing.T, img v1.Image) (string, []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
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

// TestLayoutFilesShallow: oci.pull's shallow layout (index, manifest, config; layer blobs in
// another repository or not fetched) is placed with --shallow; layers that are there still
// have their sizes checked, and a missing config still fails.
func TestLayoutFilesShallow(t *testing.T) {
	dir, files := pulledLayout(t)
	var meta, layers []string
	for _, f := range files {
		if st, _ := os.Stat(f); st.Size() >= 2048 && strings.Contains(f, "blobs") {
			layers = append(layers, f)
		} else {
			meta = append(meta, f)
		}
	}
	if len(layers) != 3 {
		t.Fatalf("%d layers", len(layers))
	}
	place := func(roots, files []string, shallow bool) (string, error) {
		out := filepath.Join(t.TempDir(), "out")
		var args []string
		for _, r := range roots {
			args = append(args, "--root", r)
		}
		for _, f := range files {
			args = append(args, "--file", f)
		}
		if shallow {
			args = append(args, "--shallow")
		}
		return out, layoutFilesVerb(append(args, "--out", out))
	}
	out, err := place([]string{dir}, meta, true)
	if err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(filepath.Join(out, "blobs", "sha256")); len(es) != 2 {
		t.Errorf("shallow layout holds %d blobs, want the manifest and config", len(es))
	}
	if _, err := place([]string{dir}, meta, false); err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Errorf("without --shallow: %v", err)
	}
	// The layers from a second root (the layers repository): a whole layout again.
	other := filepath.Join(t.TempDir(), "layout")
	var moved []string
	for _, l := range layers[:2] {
		p := filepath.Join(other, "blobs", "sha256", filepath.Base(l))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.Rename(l, p)
		moved = append(moved, p)
	}
	out, err = place([]string{dir, other}, append(append(meta, moved...), layers[2]), false)
	if err != nil {
		t.Fatal(err)
	}
	if idx, err := layout.ImageIndexFromPath(out); err != nil || validate.Index(idx) != nil {
		t.Fatalf("layout from two roots: %v", err)
	}
	os.Truncate(moved[0], 10)
	if _, err := place([]string{dir, other}, append(meta, moved[0]), true); err == nil || !strings.Contains(err.Error(), "has 10 bytes") {
		t.Errorf("shallow with a truncated layer: %v", err)
	}
	var noConfig []string
	for _, f := range meta {
		if b, _ := os.ReadFile(f); !strings.Contains(string(b), `"rootfs"`) {
			noConfig = append(noConfig, f)
		}
	}
	if _, err := place([]string{dir}, noConfig, true); err == nil || !strings.Contains(err.Error(), "config") {
		t.Errorf("shallow without the config: %v", err)
	} else {
		t.Logf("message: %v", err)
	}
}

// TestShallowBaseBytes: a verb that needs a base layer's bytes (docker-tar) on a shallow
// pulled layout says which layer is missing, where, and how to get it.
func TestShallowBaseBytes(t *testing.T) {
	img, err := random.Image(2048, 3)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, _ = mutate.ConfigFile(img, cf)
	dir, files := layoutOf(t, img)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	img, _ = idx.Image(im.Manifests[0].Digest)
	ls, _ := img.Layers()
	d, _ := ls[1].Digest()
	size, _ := ls[1].Size()
	for _, f := range files {
		if filepath.Base(f) == d.Hex {
			os.Remove(f)
		}
	}
	tmp := t.TempDir()
	list, config := filepath.Join(tmp, "layers.json"), filepath.Join(tmp, "config.json")
	if err := importLayoutVerb([]string{"--layout", dir, "--os", cf.OS, "--arch", cf.Architecture, "--config", config, "--layers", list, "--descriptor", filepath.Join(tmp, "d.json")}); err == nil {
		t.Fatal("layout-import without --shallow accepted a layout without a layer blob")
	}
	if err := importLayoutVerb([]string{"--shallow", "--layout", dir, "--os", "linux", "--arch", "amd64", "--config", config, "--layers", list}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "image.tar")
	err = dockerTarVerb([]string{"--config", config, "--extern", list + "=" + dir, "--tag", "a:b", "--out", out})
	want := fmt.Sprintf("base layer %s (%d bytes) is not in the layout %s: oci.pull fetches a base's layer blobs only for builds that ask for them: set fetch_base_layers = True on the oci_load or oci_structure_test", d, size, dir)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--@rules_wharf//oci/settings:fetch_base_layers") {
		t.Fatalf("got %v, want %q", err, want)
	}
	t.Logf("message: %v", err)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output left behind: %v", err)
	}
}
