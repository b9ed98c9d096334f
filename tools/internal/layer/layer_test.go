package layer_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func writeLayer(t *testing.T, c layer.Compression, entries []layer.Entry) ([]byte, *layer.Metadata) {
	t.Helper()
	var blob bytes.Buffer
	w, err := layer.NewWriter(&blob, c, -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := layer.WriteTar(w, entries, layer.Epoch); err != nil {
		t.Fatal(err)
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return blob.Bytes(), m
}

func TestLayerMetadataMatchesBytes(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe")
	os.WriteFile(exe, []byte("#!/bin/true\n"), 0o700)
	txt := filepath.Join(dir, "txt")
	os.WriteFile(txt, []byte("hello"), 0o600)
	entries := []layer.Entry{
		{Path: "/usr/bin/exe", Source: exe},
		{Path: "etc/conf", Source: txt},
		{Path: "etc/link", Linkname: "conf"},
		{Path: "var/empty", Dir: true},
		{Path: "etc/secret", Source: txt, Mode: 0o400},
	}
	for _, c := range []layer.Compression{layer.Gzip, layer.Zstd, layer.None} {
		blob, m := writeLayer(t, c, entries)
		if m.Digest != sha(blob) || m.Size != int64(len(blob)) {
			t.Fatalf("%s: digest/size do not describe the blob", c)
		}
		var tarBytes []byte
		switch c {
		case layer.Gzip:
			zr, err := gzip.NewReader(bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			tarBytes, _ = io.ReadAll(zr)
		case layer.Zstd:
			zr, err := zstd.NewReader(bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			tarBytes, _ = io.ReadAll(zr)
		default:
			tarBytes = blob
		}
		if m.DiffID != sha(tarBytes) {
			t.Fatalf("%s: diffID does not describe the tar", c)
		}
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range headers(t, tarBytes) {
			if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || !h.ModTime.Equal(layer.Epoch) {
				t.Fatalf("%s: not normalized: %+v", h.Name, h)
			}
			got = append(got, fmt.Sprintf("%s:%c:%o", h.Name, h.Typeflag, h.Mode))
		}
		want := "etc/:5:755,etc/conf:0:644,etc/link:2:777,etc/secret:0:400,usr/:5:755,usr/bin/:5:755,usr/bin/exe:0:755,var/:5:755,var/empty/:5:755"
		if strings.Join(got, ",") != want {
			t.Fatalf("%s: entries\n got %s\nwant %s", c, strings.Join(got, ","), want)
		}
	}
}

func TestLayerDeterministic(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, bytes.Repeat([]byte("abc"), 100000), 0o644)
	a, _ := writeLayer(t, layer.Gzip, []layer.Entry{{Path: "b", Source: f}, {Path: "a", Source: f}})
	b, _ := writeLayer(t, layer.Gzip, []layer.Entry{{Path: "a", Source: f}, {Path: "b", Source: f}})
	if !bytes.Equal(a, b) {
		t.Fatal("entry order changed the layer")
	}
}

func TestLayerRejects(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("x"), 0o644)
	for name, entries := range map[string][]layer.Entry{
		"dotdot":        {{Path: "a/../../etc/passwd", Source: f}},
		"root":          {{Path: "/", Dir: true}},
		"duplicate":     {{Path: "a", Source: f}, {Path: "/a", Source: f}},
		"file is dir":   {{Path: "a", Source: f}, {Path: "a/b", Source: f}},
		"missing":       {{Path: "a", Source: filepath.Join(dir, "nope")}},
		"not a regular": {{Path: "a", Source: dir}},
	} {
		w, _ := layer.NewWriter(io.Discard, layer.Gzip, -1)
		if err := layer.WriteTar(w, entries, layer.Epoch); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReadMetadataRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not json":   "{",
		"unknown":    `{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:` + strings.Repeat("a", 64) + `","size":1,"diffID":"sha256:` + strings.Repeat("a", 64) + `","extra":1}`,
		"bad digest": `{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:xyz","size":1,"diffID":"sha256:` + strings.Repeat("a", 64) + `"}`,
		"media type": `{"mediaType":"text/plain","digest":"sha256:` + strings.Repeat("a", 64) + `","size":1,"diffID":"sha256:` + strings.Repeat("a", 64) + `"}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(p, []byte(content), 0o644)
		if _, err := layer.ReadMetadata(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestExpandDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "tree", "sub", "empty"), 0o755)
	os.WriteFile(filepath.Join(dir, "tree", "sub", "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dir, "outside"), []byte("o"), 0o644)
	os.Symlink("sub/a.txt", filepath.Join(dir, "tree", "inner-link"))
	os.Symlink(filepath.Join(dir, "outside"), filepath.Join(dir, "tree", "outer-link"))
	entries, err := layer.ExpandDir("/opt/tree", filepath.Join(dir, "tree"), layer.ExecFromSource)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		kind := "file"
		switch {
		case e.Dir:
			kind = "dir"
		case e.Linkname != "":
			kind = "link:" + e.Linkname
		}
		got = append(got, e.Path+"="+kind)
	}
	want := "/opt/tree=dir,/opt/tree/inner-link=link:sub/a.txt,/opt/tree/outer-link=file,/opt/tree/sub=dir,/opt/tree/sub/a.txt=file,/opt/tree/sub/empty=dir"
	if strings.Join(got, ",") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, ","), want)
	}
}

// tarFile writes a tar holding hdrs into a new file in t's temp dir and returns its path; a
// regular file's content is "data of " and its name.
func tarFile(t *testing.T, hdrs ...*tar.Header) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.tar")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, h := range hdrs {
		var body []byte
		if h.Typeflag == tar.TypeReg {
			body = []byte("data of " + h.Name)
			h.Size = int64(len(body))
		}
		if h.Mode == 0 && h.Typeflag != tar.TypeXGlobalHeader {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// layerTar writes entries and archives as an uncompressed layer and returns its tar bytes.
// headers reads a tar's headers (a test layer: small).
func headers(t *testing.T, b []byte) []*tar.Header {
	t.Helper()
	var hs []*tar.Header
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hs
		}
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
}

func layerTar(entries []layer.Entry, archives ...string) ([]byte, error) {
	var b bytes.Buffer
	err := layer.WriteTarWithArchives(&b, entries, archives, layer.Epoch)
	return b.Bytes(), err
}

// Valid inputs of every kind give the same bytes as before entries were validated.
func TestLayerWithArchivesBytesUnchanged(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("file"), 0o644)
	a := tarFile(t,
		&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 7, Uname: "seven"},
		&tar.Header{Name: "./usr/share/doc", Typeflag: tar.TypeReg},
		&tar.Header{Name: "usr/share/doc2", Typeflag: tar.TypeLink, Linkname: "usr/share/doc"},
		&tar.Header{Name: "usr/share/ln", Typeflag: tar.TypeSymlink, Linkname: "/usr/bin/x"},
		&tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3},
		&tar.Header{Name: "run/fifo", Typeflag: tar.TypeFifo},
	)
	b := tarFile(t,
		&tar.Header{Name: "usr/", Typeflag: tar.TypeDir, Mode: 0o750},
		&tar.Header{Name: "usr/share/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "opt/x", Typeflag: tar.TypeReg},
	)
	got, err := layerTar([]layer.Entry{
		{Path: "/usr/bin/x", Source: f},
		{Path: "/usr/bin/y", Linkname: "x"},
		{Path: "/var/empty", Dir: true},
		{Path: "/var/empty", Dir: true, Mode: 0o700},
	}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if d := sha(got); d != "sha256:a4194f79ba0c88fa1329daae6b5bbefdc5238ef69e3a3276bbb1a12dac6aa86a" {
		t.Fatalf("layer is %s", d)
	}
}

// Every entry the layer holds passes the same checks, whichever input it came from: the
// entries given (files, symlinks, directories) and each archive's.
// regHdr, dirHdr, symlinkHdr and hardlinkHdr are tar headers of each type.
func regHdr(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeReg} }

func dirHdr(name string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}
}

func symlinkHdr(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target}
}

func hardlinkHdr(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target}
}

// An inputCase is a layer's entries and tar archives, and the error they must give.
type inputCase struct {
	name    string
	entries []layer.Entry
	tars    [][]*tar.Header
	want    string
}

// everyInputCases: conflicts between entries and tar members, each way round, and bad
// links and names; f is a regular file.
func everyInputCases(f string) []inputCase {
	return []inputCase{
		{"tar symlink, then a path through it", nil,
			[][]*tar.Header{{symlinkHdr("lnk", "/etc"), regHdr("lnk/passwd")}},
			`: entry "lnk/passwd" is written through the symlink "lnk" from `},
		{"symlink entry, then a tar path through it", []layer.Entry{{Path: "/lnk", Linkname: "/etc", Input: "--symlink=/lnk=/etc (symlinks)"}},
			[][]*tar.Header{{regHdr("lnk/passwd")}},
			`: entry "lnk/passwd" is written through the symlink "lnk" from --symlink=/lnk=/etc (symlinks)`},
		{"symlink in one tar, a path through it in the next", nil,
			[][]*tar.Header{{symlinkHdr("./lnk", "../etc")}, {dirHdr("./lnk/sub/"), regHdr("./lnk/sub/x")}},
			`: entry "lnk/sub" is written through the symlink "lnk" from `},
		{"file entry and tar directory", []layer.Entry{{Path: "/x", Source: f}},
			[][]*tar.Header{{dirHdr("x/")}},
			`: entry "x" is a directory, but "x" is already a regular file`},
		{"tar directory, then a tar file", nil,
			[][]*tar.Header{{dirHdr("x/"), regHdr("x")}},
			`: entry "x" is a regular file, but "x" is already a directory from `},
		{"tar file where an earlier tar entry implies a directory", nil,
			[][]*tar.Header{{regHdr("usr/bin/x")}, {regHdr("usr")}},
			`: entry "usr" is a regular file, but "usr" is already a directory, the parent of "usr/bin/x" from `},
		{"tar symlink over a directory", []layer.Entry{{Path: "/etc/passwd", Source: f}},
			[][]*tar.Header{{symlinkHdr("etc", "/usr/etc")}},
			`: entry "etc" is a symlink, but "etc" is already a directory`},
		{"tar file, then a path below it", nil,
			[][]*tar.Header{{regHdr("a"), regHdr("a/b")}},
			`: entry "a/b" is below "a", which is a regular file from `},
		{"file entry, then a path below it", []layer.Entry{{Path: "a", Source: f}, {Path: "a/b", Source: f}},
			nil,
			`entry "a/b" is below "a", which is a regular file`},
		{"device entry, then a tar path below it", []layer.Entry{{Path: "/dev/null", CharDevice: &[2]int64{1, 3}}},
			[][]*tar.Header{{regHdr("dev/null/x")}},
			`: entry "dev/null/x" is below "dev/null", which is a character device`},
		{"tar file twice", nil,
			[][]*tar.Header{{regHdr("a")}, {regHdr("./a")}},
			`: entry "a" appears twice: first as a regular file from `},
		{"tar symlink without target", nil,
			[][]*tar.Header{{symlinkHdr("lnk", "")}},
			`: symlink "lnk" has no target`},
		{"tar hardlink to nothing earlier", nil,
			[][]*tar.Header{{hardlinkHdr("b", "a"), regHdr("a")}},
			`: hardlink "b" points to "a", which is not an earlier regular file of the layer`},
		{"tar hardlink to a directory", []layer.Entry{{Path: "/d", Dir: true}},
			[][]*tar.Header{{hardlinkHdr("b", "/d")}},
			`: hardlink "b" points to "d", which is not an earlier regular file of the layer`},
		{"tar hardlink escaping", nil,
			[][]*tar.Header{{regHdr("a"), hardlinkHdr("b", "../a")}},
			`: hardlink "b" points outside the layer: path "../a" contains '..'`},
		{"tar hardlink to the root", nil,
			[][]*tar.Header{{hardlinkHdr("b", "/")}},
			`: hardlink "b" points outside the layer: path "/" names the root`},
		{"tar name escaping", nil,
			[][]*tar.Header{{regHdr("a/../../etc/passwd")}},
			`: path "a/../../etc/passwd" contains '..'`},
	}
}

func TestLayerChecksEveryInput(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("x"), 0o644)
	for _, tc := range everyInputCases(f) {
		var archives []string
		for _, hs := range tc.tars {
			archives = append(archives, tarFile(t, hs...))
		}
		_, err := layerTar(tc.entries, archives...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
			continue
		}
		t.Logf("%s:\n\t%v", tc.name, err)
	}
}

// A hardlink's target is normalized as names are, and may be a file of any earlier input.
func TestLayerHardlinkTargetsNormalized(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("x"), 0o644)
	a := tarFile(t,
		&tar.Header{Name: "/bin/a", Typeflag: tar.TypeReg},
		&tar.Header{Name: "/bin/b", Typeflag: tar.TypeLink, Linkname: "/bin/a"},
		&tar.Header{Name: "./bin/c", Typeflag: tar.TypeLink, Linkname: "./bin//a"},
		&tar.Header{Name: "bin/d", Typeflag: tar.TypeLink, Linkname: "/opt/f"},
	)
	got, err := layerTar([]layer.Entry{{Path: "/opt/f", Source: f}}, a)
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, h := range headers(t, got) {
		if h.Typeflag == tar.TypeLink {
			links = append(links, h.Name+"->"+h.Linkname)
		}
	}
	if want := "bin/b->bin/a,bin/c->bin/a,bin/d->opt/f"; strings.Join(links, ",") != want {
		t.Fatalf("hardlinks %s, want %s", strings.Join(links, ","), want)
	}
}

// `git archive` starts its tar with a global PAX header (pax_global_header) whose comment
// record is the commit id; the layer drops it.
func TestLayerDropsGlobalPAXHeader(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "src.tar")
	if git, err := exec.LookPath("git"); err == nil {
		repo := filepath.Join(dir, "repo")
		os.MkdirAll(filepath.Join(repo, "src"), 0o755)
		os.WriteFile(filepath.Join(repo, "src", "main.go"), []byte("package main\n"), 0o644)
		run := func(args ...string) []byte {
			cmd := exec.Command(git, args...)
			cmd.Dir = repo
			cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
				"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_AUTHOR_DATE=2001-02-03T04:05:06Z",
				"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=2001-02-03T04:05:06Z")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("git %v: %v", args, err)
			}
			return out
		}
		run("init", "-q")
		run("add", "src/main.go")
		run("commit", "-q", "-m", "one")
		os.WriteFile(archive, run("archive", "--format=tar", "HEAD"), 0o644)
	} else {
		t.Log("no git on PATH: a tar shaped like git archive's")
		archive = tarFile(t,
			// Go's writer names a global header itself; git names it pax_global_header.
			&tar.Header{Typeflag: tar.TypeXGlobalHeader,
				PAXRecords: map[string]string{"comment": strings.Repeat("ab", 20)}},
			&tar.Header{Name: "src/", Typeflag: tar.TypeDir, Mode: 0o775},
			&tar.Header{Name: "src/main.go", Typeflag: tar.TypeReg, Mode: 0o664})
	}
	// The input does start with a global header.
	in, _ := os.Open(archive)
	defer in.Close()
	if h, err := tar.NewReader(in).Next(); err != nil || h.Typeflag != tar.TypeXGlobalHeader {
		t.Fatalf("input's first entry: %v, %v", h, err)
	}
	got, err := layerTar(nil, archive)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range headers(t, got) {
		names = append(names, fmt.Sprintf("%s:%c", h.Name, h.Typeflag))
	}
	if want := "src/:5,src/main.go:0"; strings.Join(names, ",") != want {
		t.Fatalf("entries %s, want %s", strings.Join(names, ","), want)
	}
	if bytes.Contains(got, []byte("pax_global_header")) || bytes.Contains(got, []byte("comment=")) {
		t.Fatal("the global header reached the layer")
	}
}

// A directory restated as a directory is allowed, in any input; each header is written, so
// on extraction the later one's metadata wins.
func TestLayerRestatedDirectories(t *testing.T) {
	a := tarFile(t, &tar.Header{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o700},
		&tar.Header{Name: "usr/", Typeflag: tar.TypeDir, Mode: 0o750})
	b := tarFile(t, &tar.Header{Name: "usr", Typeflag: tar.TypeDir, Mode: 0o755, Uid: 5})
	got, err := layerTar([]layer.Entry{{Path: "/usr/lib", Dir: true}, {Path: "/usr", Dir: true, Mode: 0o711}}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, h := range headers(t, got) {
		dirs = append(dirs, fmt.Sprintf("%s:%o:%d", h.Name, h.Mode, h.Uid))
	}
	if want := "usr/:711:0,usr/lib/:755:0,usr/:700:0,usr/:750:0,usr/:755:5"; strings.Join(dirs, ",") != want {
		t.Fatalf("entries %s, want %s", strings.Join(dirs, ","), want)
	}
}
