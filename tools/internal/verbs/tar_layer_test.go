package verbs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

func writeTestTar(t *testing.T, path string, gz bool, hdrs ...*tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(h.Name))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(h.Name))
		}
	}
	tw.Close()
	out := b.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(out)
		zw.Close()
		out = z.Bytes()
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTarLayerVerb(t *testing.T) {
	dir := t.TempDir()
	blob, meta := filepath.Join(dir, "l.tar.gz"), filepath.Join(dir, "l.json")
	run := func(in string) (string, error) {
		var log bytes.Buffer
		err := tarLayerVerb([]string{"--tar", in, "--compression=gzip", "--blob", blob, "--metadata", meta, "--created-by=test"}, &log)
		return log.String(), err
	}

	// A valid compressed layer: the blob is the file.
	given := filepath.Join(dir, "app.tar.gz")
	b := writeTestTar(t, given, true, &tar.Header{Name: "./app/", Typeflag: tar.TypeDir, Mode: 0o755}, &tar.Header{Name: "./app/run", Typeflag: tar.TypeReg, Mode: 0o755, Uname: "me", Uid: 1000})
	if _, err := run(given); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(blob)
	m, err := layer.ReadMetadata(meta)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if !bytes.Equal(got, b) || m.Digest != "sha256:"+hex.EncodeToString(sum[:]) || m.CreatedBy != "test" {
		t.Fatalf("blob differs from the given archive (metadata %+v)", m)
	}

	// Not a valid layer: the error names the archive, no output is left.
	os.Remove(blob)
	os.Remove(meta)
	bad := filepath.Join(dir, "bad.tar")
	writeTestTar(t, bad, false, &tar.Header{Name: "a", Typeflag: tar.TypeReg, Mode: 0o644}, &tar.Header{Name: "a/b", Typeflag: tar.TypeReg, Mode: 0o644})
	_, err = run(bad)
	if want := `tar ` + bad + `: entry "a/b" is below "a", which is a regular file from tar ` + bad; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	for _, p := range []string{blob, meta} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s left behind after a failure", p)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".l.*")); len(left) != 0 {
		t.Fatalf("temporaries left: %v", left)
	}

	// A global PAX header: re-packed without it, and the log says so.
	global := filepath.Join(dir, "git.tar")
	writeTestTar(t, global, false, &tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "abc"}}, &tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644})
	log, err := run(global)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, global+" holds a global PAX header") {
		t.Fatalf("log: %q", log)
	}
	zr, err := os.Open(blob)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	gz, err := gzip.NewReader(zr)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	h, err := tr.Next()
	if err != nil || h.Typeflag == tar.TypeXGlobalHeader || h.Name != "f" {
		t.Fatalf("re-packed layer starts with %+v, %v", h, err)
	}
}

// A second tar appended after the first's end marker (#26 item 11), the global-header
// (re-pack) path included: refused naming the archive, no output left.
func TestTarLayerRefusesDataAfterTheEndMarker(t *testing.T) {
	dir := t.TempDir()
	blob, meta := filepath.Join(dir, "l.tar.gz"), filepath.Join(dir, "l.json")
	first := filepath.Join(dir, "first.tar")
	global := &tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "abc"}}
	lnk := &tar.Header{Name: "lnk", Typeflag: tar.TypeSymlink, Linkname: "/etc"}
	hidden := writeTestTar(t, filepath.Join(dir, "hidden.tar"), false, &tar.Header{Name: "lnk/passwd", Typeflag: tar.TypeReg, Mode: 0o644})
	for _, hdrs := range [][]*tar.Header{{lnk}, {global, lnk}} {
		b := writeTestTar(t, first, false, hdrs...)
		given := filepath.Join(dir, "appended.tar")
		os.WriteFile(given, append(b, hidden...), 0o644)
		err := tarLayerVerb([]string{"--tar", given, "--blob", blob, "--metadata", meta}, io.Discard)
		want := "tar " + given + ": data after the tar's end-of-archive marker (two zero blocks), at byte " + strconv.Itoa(len(b))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("%d headers: got %v, want %s…", len(hdrs), err, want)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "l*")); len(left) != 0 {
			t.Fatalf("left behind: %v", left)
		}
	}
}
