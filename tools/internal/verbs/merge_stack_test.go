package verbs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/attribution"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// stackTestLayer writes a gzip layer of entries ("name" a file with content "name@tag",
// "name/" a directory, "name=>target" a hardlink) and its metadata; returns BLOB=METADATA.
func stackTestLayer(t *testing.T, dir, tag string, names ...string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		h := &tar.Header{Name: n, Mode: 0o644, Typeflag: tar.TypeReg}
		body := n + "@" + tag
		switch {
		case strings.HasSuffix(n, "/"):
			h.Typeflag, h.Mode, body = tar.TypeDir, 0o755, ""
		case strings.Contains(n, "=>"):
			h.Name, h.Linkname, _ = strings.Cut(n, "=>")
			h.Typeflag, body = tar.TypeLink, ""
		}
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	blob, meta := filepath.Join(dir, tag+".tar.gz"), filepath.Join(dir, tag+".json")
	os.WriteFile(blob, buf.Bytes(), 0o644)
	sum := sha256.Sum256(buf.Bytes())
	m := &layer.Metadata{MediaType: layer.MediaTypeGzip, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(buf.Len()), DiffID: "sha256:" + strings.Repeat("0", 64)}
	os.WriteFile(meta, m.Marshal(), 0o644)
	return blob + "=" + meta
}

// merge-layers --stack (origin layering's top layer: the apk database layer, then an
// apko.yaml's): one layer that unpacks as the two stacked, each path once as the upper
// layer has it (a directory too), listed in --listing.
func TestMergeLayersStack(t *testing.T) {
	dir := t.TempDir()
	db := stackTestLayer(t, dir, "db", "etc/", "etc/apk/", "etc/apk/world", "etc/passwd", "./lib/", "lib/apk=>etc/apk/world")
	apko := stackTestLayer(t, dir, "apko", "etc/", "etc/passwd", "etc/group", "lib/")
	blob, meta, listing := filepath.Join(dir, "top.tar.gz"), filepath.Join(dir, "top.json"), filepath.Join(dir, "top.files.json")
	if err := mergeVerb([]string{"--stack", "--layer", db, "--layer", apko, "--blob", blob, "--metadata", meta, "--listing", listing}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range tarItems(t, blob) {
		got = append(got, it.h.Name+"|"+it.data)
	}
	want := []string{"etc/apk/|", "etc/apk/world|etc/apk/world@db", "lib/apk|", "etc/|", "etc/passwd|etc/passwd@apko", "etc/group|etc/group@apko", "lib/|"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stacked layer:\n got %v\nwant %v", got, want)
	}
	entries, err := attribution.ReadListing(listing)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, e := range entries {
		listed = append(listed, e.Path)
	}
	if strings.Join(listed, " ") != "etc/apk etc/apk/world lib/apk etc etc/passwd etc/group lib" {
		t.Errorf("listing: %v", listed)
	}
	if m, err := layer.ReadMetadata(meta); err != nil || m.DiffID == "" || m.Size == 0 {
		t.Errorf("metadata %+v, %v", m, err)
	}
}

// What --stack refuses, each message naming the layer and entry; nothing is written.
func TestMergeLayersStackErrors(t *testing.T) {
	dir := t.TempDir()
	a := stackTestLayer(t, dir, "a", "etc/", "etc/file", "etc/link=>etc/file")
	b := stackTestLayer(t, dir, "b", "etc/file")
	wh := stackTestLayer(t, dir, "wh", "etc/.wh.file")
	out := []string{"--blob", filepath.Join(dir, "o.tar.gz"), "--metadata", filepath.Join(dir, "o.json"), "--listing", filepath.Join(dir, "o.files.json")}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--layer", a, "--layer", b}, filepath.Join(dir, "a.tar.gz") + ": hardlink etc/link links to etc/file, which " + filepath.Join(dir, "b.tar.gz") + " replaces"},
		{[]string{"--layer", a, "--layer", wh}, filepath.Join(dir, "wh.tar.gz") + ": etc/.wh.file is a whiteout, which a stacked layer cannot hold"},
		{[]string{"--layer", b, "--facts", "b.facts"}, "--stack takes no --facts and needs --listing"},
	} {
		err := mergeVerb(append(append([]string{"--stack"}, c.args...), out...))
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "o.json")); err == nil {
			t.Errorf("%v: metadata written", c.args)
		}
	}
	err := mergeVerb([]string{"--stack", "--layer", b, "--blob", "x", "--metadata", "y"})
	if err == nil || err.Error() != "--stack takes no --facts and needs --listing" {
		t.Errorf("no --listing: %v", err)
	}
	err = mergeVerb([]string{"--layer", b, "--facts", "f", "--blob", "x", "--metadata", "y", "--listing", "z"})
	if err == nil || err.Error() != "--listing is for --stack: the packages' facts list a merge of packages" {
		t.Errorf("--listing without --stack: %v", err)
	}
}
