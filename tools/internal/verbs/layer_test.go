package verbs

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarHeaders lists an uncompressed layer's entries as "type mode uid:gid uname:gname mtime".
func tarHeaders(t *testing.T, blob string) map[string]string {
	t.Helper()
	f, err := os.Open(blob)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = fmt.Sprintf("%c %o %d:%d %s:%s %d", h.Typeflag, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime.Unix())
	}
}

func TestLayerOwnersNamesModesMtimes(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "f")
	exe := filepath.Join(dir, "x")
	os.WriteFile(src, []byte("data"), 0o644)
	os.WriteFile(exe, []byte("#!/bin/sh"), 0o755)
	blob, meta := filepath.Join(dir, "l.tar"), filepath.Join(dir, "l.json")
	base := []string{"--compression=none", "--blob", blob, "--metadata", meta,
		"--file=/home/app/data=" + src, "--file=/usr/bin/tool=" + exe, "--symlink=/usr/bin/t=tool", "--dir=/var/empty"}

	// No defaults: what oci_layer always wrote.
	if err := layerVerb(base); err != nil {
		t.Fatal(err)
	}
	got := tarHeaders(t, blob)
	for name, want := range map[string]string{
		"home/":         "5 755 0:0 : 0",
		"home/app/data": "0 644 0:0 : 0",
		"usr/bin/tool":  "0 755 0:0 : 0",
		"usr/bin/t":     "2 777 0:0 : 0",
		"var/empty/":    "5 755 0:0 : 0",
		"home/app/":     "5 755 0:0 : 0",
		"usr/bin/":      "5 755 0:0 : 0",
		"usr/":          "5 755 0:0 : 0",
		"var/":          "5 755 0:0 : 0",
	} {
		if got[name] != want {
			t.Errorf("plain: %s = %q, want %q", name, got[name], want)
		}
	}

	// Defaults for every entry (implicit parents too), then per-path settings over them.
	args := append(base,
		"--mtime=1700000000",
		"--default-owner=1000:1001", "--default-owner-name=app:staff",
		"--default-file-mode=0640", "--default-dir-mode=0750",
		"--owner=/usr=0:0", "--owner-name=/usr=root:root",
		"--owner=/usr/bin/tool=0:0", "--owner-name=/usr/bin/tool=root:", "--mode=/usr/bin/tool=0755",
		"--path-mtime=/home/app/data=2024-01-02T03:04:05Z", "--path-mtime=/home/app=86400",
		"--mode=/home/app=0700")
	if err := layerVerb(args); err != nil {
		t.Fatal(err)
	}
	got = tarHeaders(t, blob)
	for name, want := range map[string]string{
		"home/":         "5 750 1000:1001 app:staff 1700000000",
		"home/app/":     "5 700 1000:1001 app:staff 86400",
		"home/app/data": "0 640 1000:1001 app:staff 1704164645",
		"usr/":          "5 750 0:0 root:root 1700000000",
		"usr/bin/":      "5 750 1000:1001 app:staff 1700000000",
		"usr/bin/tool":  "0 755 0:0 root: 1700000000",
		"usr/bin/t":     "2 777 1000:1001 app:staff 1700000000",
		"var/empty/":    "5 750 1000:1001 app:staff 1700000000",
	} {
		if got[name] != want {
			t.Errorf("with defaults: %s = %q, want %q", name, got[name], want)
		}
	}

	for _, tc := range []struct{ arg, want string }{
		{"--owner-name=/home/app/data=bad name:x", "want UNAME:GNAME"},
		{"--owner-name=/home/app/data=:", "want UNAME:GNAME"},
		{"--default-owner-name=app", "want UNAME:GNAME"},
		{"--path-mtime=/home/app/data=yesterday", "RFC 3339"},
		{"--path-mtime=/nowhere=0", "--path-mtime for /nowhere, which is not in the layer"},
		{"--owner-name=/nowhere=a:b", "--owner-name for /nowhere"},
		{"--default-owner=-1:0", "want UID:GID"},
		{"--default-owner=app:0", "want UID:GID"},
		{"--default-file-mode=999", "bad mode"},
	} {
		os.Remove(blob)
		err := layerVerb(append(append([]string{}, base...), tc.arg))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.arg, err, tc.want)
		}
		if _, err := os.Stat(blob); !os.IsNotExist(err) {
			t.Errorf("%s: blob left behind", tc.arg)
		}
	}
}

// --exec-file and --data-file (what oci_layer passes) decide a file's mode whatever its bits
// on disk, which differ between local and remote execution; --file follows the bits.
func TestLayerExecutableFromFlagNotBits(t *testing.T) {
	dir := t.TempDir()
	plain, exe := filepath.Join(dir, "plain"), filepath.Join(dir, "exe")
	tree := filepath.Join(dir, "tree")
	os.WriteFile(plain, []byte("data"), 0o644)
	os.WriteFile(exe, []byte("#!/bin/sh"), 0o755)
	os.MkdirAll(filepath.Join(tree, "sub"), 0o755)
	os.WriteFile(filepath.Join(tree, "sub", "a"), []byte("a"), 0o755)
	os.WriteFile(filepath.Join(tree, "b"), []byte("b"), 0o644)
	blob, meta := filepath.Join(dir, "l.tar"), filepath.Join(dir, "l.json")
	args := []string{"--compression=none", "--blob", blob, "--metadata", meta,
		"--file=/bits/plain=" + plain, "--file=/bits/exe=" + exe,
		"--exec-file=/x/plain=" + plain, "--exec-file=/x/exe=" + exe,
		"--data-file=/d/plain=" + plain, "--data-file=/d/exe=" + exe,
		"--data-file=/dtree=" + tree, "--exec-file=/xtree=" + tree,
		"--mode=/d/exe=0700"}
	if err := layerVerb(args); err != nil {
		t.Fatal(err)
	}
	got := tarHeaders(t, blob)
	for name, want := range map[string]string{
		"bits/plain": "0 644 0:0 : 0", "bits/exe": "0 755 0:0 : 0",
		"x/plain": "0 755 0:0 : 0", "x/exe": "0 755 0:0 : 0",
		"d/plain": "0 644 0:0 : 0", "d/exe": "0 700 0:0 : 0",
		"dtree/sub/a": "0 644 0:0 : 0", "dtree/b": "0 644 0:0 : 0",
		"xtree/sub/a": "0 755 0:0 : 0", "xtree/b": "0 755 0:0 : 0",
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
	// Other bits on disk change nothing for --exec-file and --data-file.
	os.Chmod(plain, 0o755)
	os.Chmod(exe, 0o644)
	os.Chmod(filepath.Join(tree, "b"), 0o755)
	if err := layerVerb([]string{"--compression=none", "--blob", blob, "--metadata", meta,
		"--exec-file=/x/plain=" + plain, "--data-file=/d/exe=" + exe, "--data-file=/dtree=" + tree}); err != nil {
		t.Fatal(err)
	}
	got = tarHeaders(t, blob)
	for name, want := range map[string]string{"x/plain": "0 755 0:0 : 0", "d/exe": "0 644 0:0 : 0", "dtree/b": "0 644 0:0 : 0"} {
		if got[name] != want {
			t.Errorf("after chmod: %s = %q, want %q", name, got[name], want)
		}
	}
}

// Entries of --tar inputs follow the rules of every other entry, and a message names the
// entry, what it clashes with, and the input of each (the flag with its value and the
// oci_layer attribute that passes it, or the tar's path).
func TestLayerChecksEntriesOfEveryInput(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "f")
	os.WriteFile(src, []byte("data"), 0o644)
	blob, meta := filepath.Join(dir, "l.tar"), filepath.Join(dir, "l.json")
	// Tars to add are layers this verb wrote, uncompressed.
	tarOf := func(name string, args ...string) string {
		out := filepath.Join(dir, name)
		if err := layerVerb(append([]string{"--compression=none", "--blob", out, "--metadata", out + ".json"}, args...)); err != nil {
			t.Fatal(err)
		}
		return out
	}
	etcTar := tarOf("etc.tar", "--file=/lnk/passwd="+src)
	dirTar := tarOf("dir.tar", "--dir=/x")
	fileTar := tarOf("file.tar", "--file=/x="+src)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"symlinks attribute, then a tar's directory at its path",
			[]string{"--symlink=/lnk=/etc", "--tar=" + etcTar},
			`tar ` + etcTar + `: entry "lnk" is a directory, but "lnk" is already a symlink from --symlink=/lnk=/etc (symlinks)`},
		{"symlinks attribute, then a file through it",
			[]string{"--symlink=/lnk=/etc", "--file=/lnk/passwd=" + src},
			`--file=/lnk/passwd=` + src + ` (files): entry "lnk/passwd" is written through the symlink "lnk" from --symlink=/lnk=/etc (symlinks)`},
		{"files attribute, then a tar's directory at its path",
			[]string{"--data-file=/x=" + src, "--tar=" + dirTar},
			`tar ` + dirTar + `: entry "x" is a directory, but "x" is already a regular file from --data-file=/x=` + src + ` (files)`},
		{"empty_dirs attribute and a file at one path",
			[]string{"--dir=/x", "--exec-file=/x=" + src},
			`--dir=/x (empty_dirs): entry "x" is a directory, but "x" is already a regular file from --exec-file=/x=` + src + ` (files)`},
		{"a file, then a file below it",
			[]string{"--file=/a=" + src, "--file=/a/b=" + src},
			`--file=/a/b=` + src + ` (files): entry "a/b" is below "a", which is a regular file from --file=/a=` + src + ` (files)`},
		{"a tar's file where files imply a directory",
			[]string{"--file=/x/y=" + src, "--tar=" + fileTar},
			`tar ` + fileTar + `: entry "x" is a regular file, but "x" is already a directory, the parent of "x/y" from --file=/x/y=` + src + ` (files)`},
	} {
		os.Remove(blob)
		err := layerVerb(append([]string{"--compression=none", "--blob", blob, "--metadata", meta}, tc.args...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
			continue
		}
		t.Logf("%s:\n\t%v", tc.name, err)
		if _, err := os.Stat(blob); !os.IsNotExist(err) {
			t.Errorf("%s: blob left behind", tc.name)
		}
	}
}
