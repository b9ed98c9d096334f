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
		tr := tar.NewReader(bytes.NewReader(tarBytes))
		var got []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
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
