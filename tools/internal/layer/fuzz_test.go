package layer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"testing"
)

// FuzzTarInput feeds arbitrary bytes to the layer writer as a `tars` input. It must either
// refuse them or write a layer that unpacks: relative clean names, each path once (a
// directory may be restated), nothing below a non-directory, every hard link after a
// regular file it names, nothing but zeros after the end-of-archive marker.
func FuzzTarInput(f *testing.F) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "0123"}})
	tw.WriteHeader(&tar.Header{Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "a/f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Name: "a/h", Typeflag: tar.TypeLink, Linkname: "/a/f"})
	tw.WriteHeader(&tar.Header{Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "/etc"})
	tw.Close()
	f.Add(b.Bytes())
	f.Add(append(b.Bytes(), b.Bytes()...)) // a second archive after the end marker
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		p := filepath.Join(dir, "in.tar")
		if err := os.WriteFile(p, in, 0o644); err != nil {
			t.Fatal(err)
		}
		// A PAX sparse file may declare any size, and its holes are zeros to write out:
		// correct, but not in a fuzzer's memory.
		out := &capped{left: 1 << 20}
		if err := WriteTarWithArchives(out, nil, []string{p}, Epoch); err != nil {
			return
		}
		tr := tar.NewReader(&out.Buffer)
		kinds := map[string]byte{}
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				assertZeros(t, &out.Buffer)
				return
			}
			if err != nil {
				t.Fatalf("the layer does not read back: %v", err)
			}
			name := path.Clean(h.Name)
			if path.IsAbs(h.Name) || name == ".." || len(name) > 2 && name[:3] == "../" || name == "." {
				t.Fatalf("entry %q is not a clean relative name", h.Name)
			}
			if h.Typeflag == tar.TypeXGlobalHeader {
				t.Fatal("a global header reached the layer")
			}
			for d := path.Dir(name); d != "."; d = path.Dir(d) {
				if k, ok := kinds[d]; ok && k != tar.TypeDir {
					t.Fatalf("entry %q is below %q, type %c", h.Name, d, k)
				}
			}
			if k, ok := kinds[name]; ok && !(k == tar.TypeDir && h.Typeflag == tar.TypeDir) {
				t.Fatalf("entry %q appears twice", h.Name)
			}
			if h.Typeflag == tar.TypeLink {
				if k := kinds[path.Clean(h.Linkname)]; k != tar.TypeReg || path.IsAbs(h.Linkname) {
					t.Fatalf("hard link %q to %q, which is no earlier regular file", h.Name, h.Linkname)
				}
			}
			if h.Typeflag == tar.TypeSymlink && h.Linkname == "" {
				t.Fatalf("symlink %q has no target", h.Name)
			}
			kinds[name] = h.Typeflag
		}
	})
}

// assertZeros fails unless r holds only zeros: a layer carries nothing after its tar's
// end-of-archive marker (`tar -i` would unpack it).
func assertZeros(t *testing.T, r io.Reader) {
	t.Helper()
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexFunc(rest, func(c rune) bool { return c != 0 }); i >= 0 {
		t.Fatalf("%d bytes after the end-of-archive marker, non-zero from byte %d", len(rest), i)
	}
}

// capped is a buffer that refuses to grow past left bytes.
type capped struct {
	bytes.Buffer
	left int
}

func (c *capped) Write(p []byte) (int, error) {
	if len(p) > c.left {
		return 0, errors.New("output too large for the fuzzer")
	}
	c.left -= len(p)
	return c.Buffer.Write(p)
}

// FuzzPassthrough feeds arbitrary bytes to Passthrough (oci_image's `tars`). It must either
// refuse them or describe the blob it wrote: digest and size of those bytes, a compressed
// input kept byte for byte, a diffID that is the sha256 of the blob decompressed, and
// nothing but zeros after the tar's end-of-archive marker.
func FuzzPassthrough(f *testing.F) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "./a/f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Name: "./a/h", Typeflag: tar.TypeLink, Linkname: "./a/f"})
	tw.Close()
	f.Add(b.Bytes())
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b.Bytes())
	zw.Close()
	f.Add(z.Bytes())
	f.Add(append(b.Bytes(), b.Bytes()...))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		p := filepath.Join(dir, "in.tar")
		if err := os.WriteFile(p, in, 0o644); err != nil {
			t.Fatal(err)
		}
		out := &capped{left: 1 << 22}
		meta, err := Passthrough(out, p, Gzip, 1)
		if err != nil {
			return
		}
		blob := out.Bytes()
		sum := sha256.Sum256(blob)
		if meta.Digest != "sha256:"+hex.EncodeToString(sum[:]) || meta.Size != int64(len(blob)) {
			t.Fatalf("metadata %+v does not describe the %d bytes written", meta, len(blob))
		}
		if archiveCompression(in) != None && !bytes.Equal(blob, in) {
			t.Fatal("a compressed archive was not kept byte for byte")
		}
		r, err := decompress(bytes.NewReader(blob))
		if err != nil {
			t.Fatalf("the blob does not decompress: %v", err)
		}
		tarBytes, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("the blob does not decompress: %v", err)
		}
		if sum := sha256.Sum256(tarBytes); meta.DiffID != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Fatalf("diffID %s is not the sha256 of the blob decompressed", meta.DiffID)
		}
		rest := bytes.NewReader(tarBytes)
		for tr := tar.NewReader(rest); ; {
			if _, err := tr.Next(); err != nil {
				break
			}
		}
		assertZeros(t, rest)
	})
}
