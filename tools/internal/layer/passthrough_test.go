package layer_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// compressed writes b gzip- or zstd-compressed beside src and returns the new file.
func compressed(t *testing.T, src string, c layer.Compression) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var zw io.WriteCloser
	switch c {
	case layer.Gzip:
		zw = gzip.NewWriter(&out)
	case layer.Zstd:
		if zw, err = zstd.NewWriter(&out); err != nil {
			t.Fatal(err)
		}
	}
	zw.Write(b)
	zw.Close()
	p := src + "." + string(c)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func passthrough(t *testing.T, name string, c layer.Compression) ([]byte, *layer.Metadata, error) {
	t.Helper()
	var blob bytes.Buffer
	meta, err := layer.Passthrough(&blob, name, c, -1)
	return blob.Bytes(), meta, err
}

// A compressed archive is the blob byte for byte; a plain one is compressed as asked; the
// diffID is the tar's sha256 either way.
func TestPassthroughKeepsTheArchive(t *testing.T) {
	plain := tarFile(t,
		&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "./usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755, Uname: "builder"},
		&tar.Header{Name: "./usr/bin/app", Typeflag: tar.TypeReg, Mode: 0o755, Uid: 1000},
		&tar.Header{Name: "./usr/bin/app2", Typeflag: tar.TypeLink, Linkname: "./usr/bin/app"},
		&tar.Header{Name: "./etc/app", Typeflag: tar.TypeSymlink, Linkname: "/usr/bin/app"},
	)
	tarBytes, _ := os.ReadFile(plain)
	for _, c := range []layer.Compression{layer.Gzip, layer.Zstd} {
		given := compressed(t, plain, c)
		givenBytes, _ := os.ReadFile(given)
		for _, want := range []layer.Compression{layer.Gzip, layer.Zstd, layer.None} {
			blob, meta, err := passthrough(t, given, want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(blob, givenBytes) || meta.Digest != sha(givenBytes) || meta.Size != int64(len(givenBytes)) {
				t.Errorf("%s archive, image compression %s: blob %s (%d bytes), want the archive as given, %s", c, want, meta.Digest, meta.Size, sha(givenBytes))
			}
			if meta.DiffID != sha(tarBytes) {
				t.Errorf("%s archive: diffID %s, want the tar's %s", c, meta.DiffID, sha(tarBytes))
			}
			wantType := map[layer.Compression]string{layer.Gzip: layer.MediaTypeGzip, layer.Zstd: layer.MediaTypeZstd}[c]
			if meta.MediaType != wantType {
				t.Errorf("%s archive: media type %s, want %s", c, meta.MediaType, wantType)
			}
		}
	}
	blob, meta, err := passthrough(t, plain, layer.None)
	if err != nil || !bytes.Equal(blob, tarBytes) || meta.DiffID != sha(tarBytes) || meta.Digest != sha(tarBytes) || meta.MediaType != layer.MediaTypeTar {
		t.Errorf("plain tar, no compression: %v %+v, want the tar as given", err, meta)
	}
	blob, meta, err = passthrough(t, plain, layer.Gzip)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	inflated, _ := io.ReadAll(zr)
	if !bytes.Equal(inflated, tarBytes) || meta.DiffID != sha(tarBytes) || meta.Digest != sha(blob) || meta.MediaType != layer.MediaTypeGzip {
		t.Errorf("plain tar, gzip: the blob must be the tar compressed (%+v)", meta)
	}
}

// An archive that is not a valid layer fails with the message naming it and what is wrong.
func TestPassthroughRejects(t *testing.T) {
	dup := tarFile(t,
		&tar.Header{Name: "a", Typeflag: tar.TypeReg},
		&tar.Header{Name: "./a", Typeflag: tar.TypeReg},
	)
	through := tarFile(t,
		&tar.Header{Name: "lnk", Typeflag: tar.TypeSymlink, Linkname: "/etc"},
		&tar.Header{Name: "lnk/passwd", Typeflag: tar.TypeReg},
	)
	up := tarFile(t, &tar.Header{Name: "../x", Typeflag: tar.TypeReg})
	dangling := tarFile(t, &tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "missing"})
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.tar")
	os.WriteFile(empty, nil, 0o644)
	garbage := filepath.Join(dir, "garbage.tar.gz")
	good, _ := os.ReadFile(compressed(t, tarFile(t, &tar.Header{Name: "f", Typeflag: tar.TypeReg}), layer.Gzip))
	os.WriteFile(garbage, append(good, "trailing bytes after the stream"...), 0o644)
	truncated := filepath.Join(dir, "truncated.tar.gz")
	os.WriteFile(truncated, good[:len(good)-10], 0o644)
	notTar := filepath.Join(dir, "notes.tar")
	os.WriteFile(notTar, bytes.Repeat([]byte("not a tar archive at all "), 40), 0o644)
	for _, tc := range []struct{ name, file, want string }{
		{"duplicate", dup, `tar ` + dup + `: entry "a" appears twice: first as a regular file from tar ` + dup},
		{"through a symlink", through, `tar ` + through + `: entry "lnk/passwd" is written through the symlink "lnk" from tar ` + through},
		{"dot-dot", up, `tar ` + up + `: path "../x" contains '..'`},
		{"dangling hardlink", dangling, `tar ` + dangling + `: hardlink "h" points to "missing", which is not an earlier regular file of the layer`},
		{"empty file", empty, `tar ` + empty + `: empty file, not a tar`},
		{"trailing garbage", garbage, `tar ` + garbage + `: gzip: invalid header`},
		{"truncated", truncated, `tar ` + truncated + `: unexpected EOF`},
		{"not a tar", notTar, `tar ` + notTar + `: archive/tar: invalid tar header`},
	} {
		_, _, err := passthrough(t, tc.file, layer.Gzip)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.name, err, tc.want)
		}
	}
	global := tarFile(t,
		&tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "abc"}},
		&tar.Header{Name: "f", Typeflag: tar.TypeReg},
	)
	if _, _, err := passthrough(t, global, layer.Gzip); !errors.Is(err, layer.ErrGlobalHeader) || !strings.Contains(err.Error(), global) {
		t.Errorf("global header: got %v, want ErrGlobalHeader naming the file", err)
	}
}
