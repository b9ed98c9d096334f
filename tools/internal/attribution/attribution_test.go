package attribution

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

func digest(i int) string { return fmt.Sprintf("sha256:%064x", i+1) }

func file(p string) apkfile.Entry { return apkfile.Entry{Path: p, Type: "file", Mode: 0o644} }
func dir(p string) apkfile.Entry  { return apkfile.Entry{Path: p, Type: "dir", Mode: 0o755} }

// writeSpec writes each layer's metadata and facts or listing as the layer actions do
// and returns the spec naming them.
func writeSpec(t *testing.T, layers []Layer) *Spec {
	t.Helper()
	d := t.TempDir()
	s := &Spec{}
	for i, l := range layers {
		sl := SpecLayer{Metadata: filepath.Join(d, fmt.Sprintf("%d.layer.json", i)), Label: l.Label}
		m := layer.Metadata{MediaType: layer.MediaTypeGzip, Digest: l.Digest, DiffID: l.Digest, Size: 10}
		must(t, os.WriteFile(sl.Metadata, m.Marshal(), 0o644))
		for j, g := range l.Groups {
			name := filepath.Join(d, fmt.Sprintf("%d.%d.json", i, j))
			if g.Package == nil {
				sl.Listing = name
				must(t, os.WriteFile(name, MarshalListing(g.Entries), 0o644))
				continue
			}
			f := apkfile.Facts{PkgInfo: &apkfile.PkgInfo{Name: g.Package.Name, Version: g.Package.Version, Origin: g.Package.Origin, License: g.Package.License}, Files: g.Entries}
			sl.Facts = append(sl.Facts, name)
			must(t, os.WriteFile(name, f.Marshal(), 0o644))
		}
		s.Layers = append(s.Layers, sl)
	}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func build(t *testing.T, layers []Layer) *Document {
	t.Helper()
	loaded, err := writeSpec(t, layers).Load()
	must(t, err)
	d, err := Build(loaded)
	must(t, err)
	// What the verb writes reads back the same.
	var buf bytes.Buffer
	must(t, d.Write(&buf))
	var back Document
	must(t, json.Unmarshal(buf.Bytes(), &back))
	if a, b := fmt.Sprint(back.Files), fmt.Sprint(d.Files); len(back.Files) != len(d.Files) || a == "" || b == "" {
		t.Fatalf("document does not read back: %d files, want %d", len(back.Files), len(d.Files))
	}
	return &back
}

func find(d *Document, p string) *File {
	for _, f := range d.Files {
		if f.Path == p {
			return f
		}
	}
	return nil
}

func owners(f *File) string {
	var s []string
	for _, o := range append(append([]Owner{}, f.Replaced...), f.Owner) {
		w := fmt.Sprint(o.Layer)
		if o.Deleted {
			w += "x"
		}
		s = append(s, w)
	}
	return strings.Join(s, " ")
}

var osRelease = &Package{Name: "wolfi-baselayout", Version: "20230201-r15", Origin: "wolfi-baselayout", License: "MIT"}

func testLayers() []Layer {
	return []Layer{
		{Digest: digest(0), Label: "@base//:pkgs", Known: true, Groups: []Group{
			{Package: osRelease, Entries: []apkfile.Entry{dir("etc"), file("etc/os-release"), dir("usr"), dir("usr/share"), file("usr/share/a"), file("usr/share/b"), dir("opt"), file("opt/x")}},
			{Package: &Package{Name: "busybox", Version: "1.36"}, Entries: []apkfile.Entry{dir("bin"), file("bin/busybox"), {Path: "bin/sh", Type: "symlink", Linkname: "busybox"}, {Path: "bin/ash", Type: "hardlink", Linkname: "bin/busybox"}}},
		}},
		{Digest: digest(1), Label: "//app:etc", Known: true, Groups: []Group{{Entries: []apkfile.Entry{dir("etc"), file("etc/os-release"), file("usr/share/.wh.a"), file("opt/.wh..wh..opq"), file("opt/y")}}}},
		{Digest: digest(2), Label: "//app:again", Known: true, Groups: []Group{{Entries: []apkfile.Entry{dir("usr/share"), file("usr/share/a"), file("usr/.wh.nothing"), {Path: "bin/busybox", Type: "dir"}}}}},
	}
}

func TestOverlay(t *testing.T) {
	d := build(t, testLayers())
	for _, c := range []struct{ path, owners string }{
		{"/etc/os-release", "0 1"}, // replaced by a later layer
		{"/etc", "0 1"},            // a directory in both
		{"/usr/share/a", "0 1x 2"}, // deleted by a whiteout, then put back
		{"/usr/share/b", "0"},      // a sibling of the whiteout stays
		{"/opt/y", "1"},            // beside its own layer's opaque marker
		{"/bin/sh", "0"},           // symlink
		{"/bin/ash", "0"},          // hard link
		{"/bin/busybox", "0 2"},    // file replaced by a directory
		{"/usr/share", "0 2"},
	} {
		f := find(d, c.path)
		if f == nil {
			t.Errorf("%s missing", c.path)
			continue
		}
		if got := owners(f); got != c.owners {
			t.Errorf("%s: owners %q, want %q", c.path, got, c.owners)
		}
	}
	for _, gone := range []string{"/opt/x", "/usr/share/.wh.a", "/opt/.wh..wh..opq", "/usr/nothing"} {
		if find(d, gone) != nil {
			t.Errorf("%s is in the image", gone)
		}
	}
	if f := find(d, "/etc/os-release"); f.Replaced[0].Package.Name != "wolfi-baselayout" || f.Owner.Label != "//app:etc" || f.Owner.Package != nil {
		t.Errorf("os-release owners: %+v", f)
	}
	if f := find(d, "/bin/ash"); f.Link != "/bin/busybox" || f.Type != "hardlink" {
		t.Errorf("hard link: %+v", f)
	}
}

func TestExplain(t *testing.T) {
	d := build(t, testLayers())
	var out bytes.Buffer
	must(t, d.Explain(&out, []string{"/etc/os-release", "bin/sh", "/bin/ash"}))
	want := `/etc/os-release (file 0644)
  from layer 1 (` + digest(1) + `): //app:etc
  replaced layer 0 (` + digest(0) + `): package wolfi-baselayout@20230201-r15 (origin wolfi-baselayout, license MIT), @base//:pkgs
/bin/sh (symlink 0000)
  symlink to busybox (resolves to /bin/busybox, from layer 2 (` + digest(2) + `): //app:again)
  from layer 0 (` + digest(0) + `): package busybox@1.36, @base//:pkgs
/bin/ash (hardlink 0000)
  hard link to /bin/busybox
  from layer 0 (` + digest(0) + `): package busybox@1.36, @base//:pkgs
`
	if out.String() != want {
		t.Errorf("explain:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestExplainMissingPath(t *testing.T) {
	d := build(t, testLayers())
	var out bytes.Buffer
	err := d.Explain(&out, []string{"/etc/os-releas", "/usr/share/b", "/nowhere/at/all/x"})
	want := "/etc/os-releas is not in the image; did you mean /etc/os-release?\n/nowhere/at/all/x is not in the image"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if !strings.HasPrefix(out.String(), "/usr/share/b (file 0644)\n") {
		t.Errorf("the path that is there is not explained: %q", out.String())
	}
}

func TestBaseLayersUnknown(t *testing.T) {
	dir := t.TempDir()
	ext := filepath.Join(dir, "base.layers.json")
	m := layer.Metadata{MediaType: layer.MediaTypeGzip, Digest: digest(7), DiffID: digest(7), Size: 1}
	b, _ := json.Marshal([]layer.Metadata{m})
	must(t, os.WriteFile(ext, b, 0o644))
	s := writeSpec(t, testLayers()[:1])
	s.Layers = append([]SpecLayer{{Extern: ext, Base: "cgr.dev/chainguard/static"}}, s.Layers...)
	loaded, err := s.Load()
	must(t, err)
	d, err := Build(loaded)
	must(t, err)
	if l := d.Layers[0]; l.Entries != "unknown" || l.Base != "cgr.dev/chainguard/static" || l.Digest != digest(7) {
		t.Errorf("base layer: %+v", l)
	}
	if f := find(d, "/etc/os-release"); f == nil || f.Owner.Layer != 1 {
		t.Errorf("layer numbers do not count the base's: %+v", f)
	}
	err = d.Explain(&bytes.Buffer{}, []string{"/bin/true"})
	want := "/bin/true is in none of the image's listed layers; the layers 0 of base image cgr.dev/chainguard/static are not listed (their entries are known only by unpacking them, which explain does not do), so it may be in one of them"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestBadInputsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	s := writeSpec(t, testLayers()[1:2])
	s.Layers[0].Listing = ""
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "neither package facts nor a listing say what it holds") || !strings.Contains(err.Error(), "//app:etc") {
		t.Errorf("layer without entries: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	must(t, os.WriteFile(bad, []byte(`{"entries": 3}`), 0o644))
	s.Layers[0].Listing = bad
	if _, err := s.Load(); err == nil || !strings.HasPrefix(err.Error(), "layer listing "+bad+": ") {
		t.Errorf("bad listing: %v", err)
	}
	if _, err := ParseSpec(`{"layers": [{"metdata": "x"}]}`); err == nil || !strings.Contains(err.Error(), `files spec: json: unknown field "metdata"`) {
		t.Errorf("bad spec: %v", err)
	}
	l := Layer{Digest: digest(0), Known: true, Groups: []Group{{Entries: []apkfile.Entry{file("a/.wh..wh.x")}}}}
	if _, err := Build([]Layer{l}); err == nil || err.Error() != `layer 0 (`+digest(0)+`): whiteout "a/.wh..wh.x" names no file` {
		t.Errorf("bad whiteout: %v", err)
	}
}

func TestListerListsWhatPasses(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	long := strings.Repeat("long/", 30) + "name"
	for _, h := range []*tar.Header{
		{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}},
		{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "etc/os-release", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3},
		{Name: "etc/link", Typeflag: tar.TypeSymlink, Linkname: "os-release"},
		{Name: long, Typeflag: tar.TypeReg, Mode: 0o600, Size: 1000, Format: tar.FormatPAX},
		{Name: long + "2", Typeflag: tar.TypeLink, Linkname: long, Format: tar.FormatGNU},
		{Name: "big", Typeflag: tar.TypeReg, Size: 513, Uid: 1 << 22, Format: tar.FormatPAX},
	} {
		must(t, tw.WriteHeader(h))
		tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size)))
	}
	must(t, tw.Close())
	want, err := ListTar(bytes.NewReader(buf.Bytes()))
	must(t, err)
	if len(want) != 6 || want[3].Path != long || want[4].Linkname != long {
		t.Fatalf("ListTar: %+v", want)
	}
	for _, chunk := range []int{1, 7, 100, 512, 4096, len(buf.Bytes())} {
		l := NewLister()
		for b := buf.Bytes(); len(b) > 0; b = b[min(chunk, len(b)):] {
			l.Write(b[:min(chunk, len(b))])
		}
		got, err := l.Close()
		must(t, err)
		if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
			t.Errorf("chunks of %d: listing\n%s\nwant\n%s", chunk, g, w)
		}
	}
	// A stream cut short, and one that is no tar.
	l := NewLister()
	l.Write(buf.Bytes()[:1500])
	if _, err := l.Close(); err == nil || err.Error() != "listing the layer: unexpected EOF" {
		t.Errorf("cut stream: %v", err)
	}
	l = NewLister()
	l.Write(bytes.Repeat([]byte("not a tar "), 60))
	if _, err := l.Close(); err == nil || !strings.HasPrefix(err.Error(), "listing the layer: tar header of \"not a tar not a tar") {
		t.Errorf("bad stream: %v", err)
	}
}

func TestUnreadableInputsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "base.layers.json")
	must(t, os.WriteFile(bad, []byte(`{"not": "a list"}`), 0o644))
	s := &Spec{Layers: []SpecLayer{{Extern: bad, Base: "cgr.dev/x"}}}
	if _, err := s.Load(); err == nil || !strings.HasPrefix(err.Error(), "base image layers "+bad+": ") {
		t.Errorf("bad base layers: %v", err)
	}
	doc := filepath.Join(dir, "image.files.json")
	must(t, os.WriteFile(doc, []byte(`{"files": 1}`), 0o644))
	if _, err := ReadDocument(doc); err == nil || !strings.HasPrefix(err.Error(), "files document "+doc+": ") {
		t.Errorf("bad document: %v", err)
	}
	gz := filepath.Join(dir, "broken.tar.gz")
	must(t, os.WriteFile(gz, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}, 0o644))
	if _, err := ListArchive(gz); err == nil || !strings.HasPrefix(err.Error(), "tar "+gz+": ") {
		t.Errorf("broken archive: %v", err)
	}
}

func TestListArchiveReadsEachCompression(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Name: "a/b", Typeflag: tar.TypeReg, Size: 1}))
	tw.Write([]byte("x"))
	must(t, tw.Close())
	for _, c := range []layer.Compression{layer.None, layer.Gzip, layer.Zstd} {
		name := filepath.Join(dir, string(c))
		f, err := os.Create(name)
		must(t, err)
		w, err := layer.NewWriter(f, c, -1)
		must(t, err)
		w.Write(buf.Bytes())
		_, err = w.Close()
		must(t, err)
		must(t, f.Close())
		got, err := ListArchive(name)
		must(t, err)
		if len(got) != 1 || got[0].Path != "a/b" || got[0].Size != 1 {
			t.Errorf("%s: %+v", c, got)
		}
	}
}
