package structuretest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// ent is a tar entry for the test layers: "name" with type and mode, body for files.
type ent struct {
	name, body, link string
	typ              byte
	mode             int64
	uid              int
}

func file(name, body string, mode int64) ent {
	return ent{name: name, body: body, typ: tar.TypeReg, mode: mode}
}
func dir(name string, mode int64) ent { return ent{name: name, typ: tar.TypeDir, mode: mode} }
func symlink(name, target string) ent {
	return ent{name: name, link: target, typ: tar.TypeSymlink, mode: 0o777}
}
func hardlink(name, target string) ent {
	return ent{name: name, link: target, typ: tar.TypeLink, mode: 0o644}
}

// writeLayer writes entries as a layer blob: "gz", "zst" or plain tar.
func writeLayer(t *testing.T, dirPath, name, compression string, entries ...ent) Layer {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Size: int64(len(e.body)), Uid: e.uid, Gid: e.uid, Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	var blob bytes.Buffer
	switch compression {
	case "gz":
		zw := gzip.NewWriter(&blob)
		zw.Write(tarBuf.Bytes())
		zw.Close()
	case "zst":
		zw, _ := zstd.NewWriter(&blob)
		zw.Write(tarBuf.Bytes())
		zw.Close()
	default:
		blob = tarBuf
	}
	p := filepath.Join(dirPath, name)
	if err := os.WriteFile(p, blob.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return Layer{Path: p, Name: name}
}

// testLayers is a base with a shell, a middle layer that deletes and replaces, a top layer
// with links: the three compressions.
func testLayers(t *testing.T) []Layer {
	d := t.TempDir()
	return []Layer{
		writeLayer(t, d, "base", "gz",
			dir("bin", 0o755), file("bin/sh", "#!shell", 0o755), dir("etc", 0o755),
			file("etc/os-release", "ID=alpine\nVERSION_ID=3.20\n", 0o644), dir("opt/old", 0o755), file("opt/old/a", "a", 0o644),
			file("usr/lib/gone", "x", 0o644), file("var/secret", "s", 0o600), file("var/cache/x/y", "y", 0o644), dir("tmp", 0o1777), ent{name: "dev/null", typ: tar.TypeChar, mode: 0o666},
			dir("usr/share/doc/pkg", 0o755), file("usr/share/doc/pkg/copyright", "License: GPL-2\n", 0o644)),
		writeLayer(t, d, "middle", "zst",
			file("usr/lib/.wh.gone", "", 0o644), file("var/.wh.cache", "", 0o644), file("opt/old/.wh..wh..opq", "", 0o644), file("opt/old/b", "b", 0o644),
			file("usr/bin/su", "su", 0o4755), file("etc/motd", "hello\n", 0o666)),
		writeLayer(t, d, "top", "",
			symlink("etc/release", "os-release"), symlink("usr/bin/sh", "/bin/sh"), hardlink("usr/bin/su2", "usr/bin/su"),
			symlink("lib", "usr/lib"), file("usr/lib/libz.so", "z", 0o755)),
	}
}

func readTest(t *testing.T, paths ...string) *FS {
	t.Helper()
	layers := testLayers(t)
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	v, err := Read(layers, func(p string) bool { return want[p] })
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Fill(layers, paths); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMergedView(t *testing.T) {
	v := readTest(t, "/etc/release", "/etc/os-release")
	for p, want := range map[string]string{
		"/bin/sh":         "-rwxr-xr-x",
		"/usr/bin/su":     "urwxr-xr-x",
		"/usr/bin/su2":    "urwxr-xr-x", // a hard link is its target's inode
		"/etc/release":    "Lrwxrwxrwx",
		"/opt/old/b":      "-rw-r--r--",
		"/tmp":            "dtrwxrwxrwx",
		"/usr":            "drwxr-xr-x", // implicit parent
		"/lib/libz.so":    "-rwxr-xr-x", // through a directory symlink
		"/usr/share/doc":  "drwxr-xr-x",
		"/etc/os-release": "-rw-r--r--",
	} {
		e, err := v.Lstat(p)
		if err != nil {
			t.Errorf("Lstat(%s): %v", p, err)
			continue
		}
		if e.Mode.String() != want {
			t.Errorf("Lstat(%s) = %s, want %s", p, e.Mode, want)
		}
	}
	for _, gone := range []string{"/usr/lib/gone", "/opt/old/a", "/var/cache", "/var/cache/x/y"} {
		if _, err := v.Lstat(gone); err == nil || !strings.Contains(err.Error(), "no such file or directory") {
			t.Errorf("Lstat(%s) = %v, want it removed by a whiteout", gone, err)
		}
	}
	b, err := v.ReadFile("/etc/release")
	if err != nil || !strings.Contains(string(b), "ID=alpine") {
		t.Errorf("ReadFile through a symlink = %q, %v", b, err)
	}
}

func TestReadFileErrors(t *testing.T) {
	v := readTest(t)
	for p, want := range map[string]string{
		"/etc":            "/etc: not a regular file",
		"/nope/x":         "/nope: no such file or directory",
		"/bin/sh/x":       "/bin/sh: not a directory",
		"/etc/os-release": "/etc/os-release: its bytes were not read from layer 0",
	} {
		if _, err := v.ReadFile(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadFile(%s) = %v, want %q", p, err, want)
		}
	}
}

func TestSymlinkLoop(t *testing.T) {
	d := t.TempDir()
	l := writeLayer(t, d, "loop", "gz", symlink("a", "b"), symlink("b", "a"))
	v, err := Read([]Layer{l}, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ReadFile("/a"); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("ReadFile(/a) = %v, want a loop error", err)
	}
}

func TestBrokenLayerNamesIt(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "broken")
	os.WriteFile(p, []byte{0x1f, 0x8b, 8, 0, 0, 0}, 0o644)
	_, err := Read([]Layer{{Path: p, Name: "sha256:abc"}}, func(string) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "layer 0 (sha256:abc)") {
		t.Errorf("Read = %v, want an error naming the layer", err)
	}
}

// An entry under a directory symlink of a lower layer lands where the link points, in the
// view and when unpacked; the unpacked tree is the view.
func TestUnderASymlinkAndUnpack(t *testing.T) {
	layers := append(testLayers(t), writeLayer(t, t.TempDir(), "above", "gz", file("lib/libextra.so", "extra", 0o644)))
	v, err := Read(layers, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if e, err := v.Lstat("/usr/lib/libextra.so"); err != nil || e.Name != "/lib/libextra.so" {
		t.Fatalf("Lstat(/usr/lib/libextra.so) = %+v, %v", e, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("unpacking sets owners: needs root")
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := v.Unpack(layers, root); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"usr/lib/libextra.so": "extra", "etc/release": "ID=alpine\nVERSION_ID=3.20\n", "usr/bin/su2": "su", "opt/old/b": "b"} {
		if b, err := os.ReadFile(filepath.Join(root, p)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
	for p, want := range map[string]string{"tmp": "dtrwxrwxrwx", "usr/bin/su": "urwxr-xr-x", "lib": "Lrwxrwxrwx", "var/secret": "-rw-------"} {
		if fi, err := os.Lstat(filepath.Join(root, p)); err != nil || fi.Mode().String() != want {
			t.Errorf("%s: %v, %v; want %s", p, fi.Mode(), err, want)
		}
	}
	for _, gone := range []string{"opt/old/a", "usr/lib/gone", "dev/null"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it absent", gone, err)
		}
	}
}
