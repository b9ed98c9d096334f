package layers

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists a gzip layer's entries as "name type mode uid:gid mtime".
func entries(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = fmt.Sprintf("%c %o %d:%d %d %s%s", h.Typeflag, h.Mode, h.Uid, h.Gid, h.ModTime.Unix(), h.Uname, h.Gname)
	}
}

// Args: the with_runfiles, from_tar, with_dir and owned layer blobs (root-relative paths).
// The layers are Bazel outputs: this test runs under `bazel test //tests/layers:layers_test`.
func TestLayers(t *testing.T) {
	root := os.Getenv("TEST_SRCDIR")
	if root == "" || len(os.Args) < 5 {
		t.Skip("needs the layers built by Bazel: bazel test //tests/layers:layers_test")
	}
	root = filepath.Join(root, os.Getenv("TEST_WORKSPACE"))
	args := os.Args[len(os.Args)-4:]
	withRunfiles := entries(t, filepath.Join(root, args[0]))
	for name, want := range map[string]string{
		"app/bin": "0 755 1000:1000 0 ",
		"app/bin.runfiles/_main/tests/layers/payload.txt": "0 644 0:0 0 ",
	} {
		if got, ok := withRunfiles[name]; !ok || got != want {
			t.Errorf("with_runfiles: %s = %q, want %q (all: %v)", name, got, want, withRunfiles)
		}
	}
	fromTar := entries(t, filepath.Join(root, args[1]))
	for name, want := range map[string]string{
		"etc/extra.txt": "0 644 0:0 1700000000 ",
		"opt/tarred/":   "5 755 0:0 1700000000 ",
	} {
		if got, ok := fromTar[name]; !ok || got != want {
			t.Errorf("from_tar: %s = %q, want %q (all: %v)", name, got, want, fromTar)
		}
	}
	withDir := entries(t, filepath.Join(root, args[2]))
	for _, name := range []string{"opt/layout/", "opt/layout/index.json", "opt/layout/oci-layout", "opt/layout/blobs/sha256/"} {
		if _, ok := withDir[name]; !ok {
			t.Errorf("with_dir lacks %s (all: %v)", name, withDir)
		}
	}
	// "type mode uid:gid mtime unamegname"
	owned := entries(t, filepath.Join(root, args[3]))
	for name, want := range map[string]string{
		"home/":                    "5 750 65532:65532 1700000000 nonrootnonroot",
		"home/nonroot/":            "5 750 65532:65532 1700000000 nonrootnonroot",
		"home/nonroot/payload.txt": "0 600 65532:65532 86400 nonrootnonroot",
		"tmp/":                     "5 1777 0:0 1700000000 rootroot",
	} {
		if got, ok := owned[name]; !ok || got != want {
			t.Errorf("owned: %s = %q, want %q (all: %v)", name, got, want, owned)
		}
	}
	for name := range fromTar {
		if strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
			t.Errorf("unnormalized entry %q", name)
		}
	}
}
