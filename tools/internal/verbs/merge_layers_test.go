package verbs

import (
	"archive/tar"
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

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// merge-layers on two extracted packages: the merged blob is one gzip member whose tar has
// each path once (/etc as the first package has it, /etc/motd as the second), and the
// metadata describes exactly that blob.
func TestMergeLayers(t *testing.T) {
	key, err := apktest.NewKey("k.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var layerArgs, factsArgs []string
	for i, p := range []apktest.Package{
		{Name: "base", Version: "1-r0", Arch: "x86_64", Files: []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/motd", Content: "base\n"}, {Path: "etc/big", Content: strings.Repeat("0123456789abcdef", 40000)}}},
		{Name: "motd", Version: "1-r0", Arch: "x86_64", Files: []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/motd", Content: "motd\n"}}},
	} {
		b, err := apktest.Build(p, key)
		if err != nil {
			t.Fatal(err)
		}
		apk := filepath.Join(dir, p.Name+".apk")
		os.WriteFile(apk, b.APK, 0o644)
		o := func(s string) string { return filepath.Join(dir, p.Name+"."+s) }
		if err := apkExtract([]string{"--name", p.Name, "--version", p.Version, "--arch", p.Arch, "--part", apk,
			"--blob", o("blob"), "--metadata", o("meta"), "--facts", o("facts")}); err != nil {
			t.Fatalf("package %d: %v", i, err)
		}
		layerArgs = append(layerArgs, "--layer", o("blob")+"="+o("meta"))
		factsArgs = append(factsArgs, "--facts", o("facts"))
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	blob, meta := filepath.Join(out, "merged.tar.gz"), filepath.Join(out, "merged.json")
	if err := mergeVerb(append(append(layerArgs, factsArgs...), "--blob", blob, "--metadata", meta, "--created-by", "apk base motd")); err != nil {
		t.Fatal(err)
	}
	checkMergedLayer(t, blob, meta)

	// A layer that is not gzip is refused, and nothing is written.
	os.Remove(blob)
	os.Remove(meta)
	zstdMeta := filepath.Join(dir, "zstd.json")
	os.WriteFile(zstdMeta, []byte(`{"mediaType":"`+layer.MediaTypeZstd+`","digest":"sha256:`+strings.Repeat("0", 64)+`","size":1,"diffID":"sha256:`+strings.Repeat("0", 64)+`"}`), 0o644)
	err = mergeVerb(append(append(layerArgs, factsArgs...), "--layer", filepath.Join(dir, "base.blob")+"="+zstdMeta, "--facts", filepath.Join(dir, "base.facts"), "--blob", blob, "--metadata", meta))
	if err == nil || !strings.Contains(err.Error(), "only gzip layers") {
		t.Fatalf("zstd layer: %v", err)
	}
	if es := entries(t, out); len(es) != 0 {
		t.Fatalf("left %v", es)
	}
}

// checkMergedLayer: TestMergeLayers' merged layer and its metadata: the blob's digest, size
// and diffID, base's entries with motd's /etc/motd.
func checkMergedLayer(t *testing.T, blob, meta string) {
	t.Helper()
	m, err := layer.ReadMetadata(meta)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(blob)
	if sum := sha256.Sum256(raw); m.Digest != "sha256:"+hex.EncodeToString(sum[:]) || m.Size != int64(len(raw)) || m.CreatedBy != "apk base motd" {
		t.Fatalf("metadata %+v does not describe the blob", m)
	}
	f, _ := os.Open(blob)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	h := sha256.New()
	tr := tar.NewReader(io.TeeReader(zr, h))
	var names []string
	motd := ""
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimSuffix(hd.Name, "/"))
		if hd.Name == "etc/motd" {
			b, _ := io.ReadAll(tr)
			motd = string(b)
		}
	}
	io.Copy(h, zr)
	if m.DiffID != "sha256:"+hex.EncodeToString(h.Sum(nil)) {
		t.Fatalf("diffID %s is not the sha256 of the uncompressed blob", m.DiffID)
	}
	if got := strings.Join(names, ","); got != "etc,etc/big,etc/motd" || motd != "motd\n" {
		t.Fatalf("entries %s, last motd %q", got, motd)
	}
}

// extractForMerge builds and extracts the packages into dir; it returns the --layer and
// --facts arguments of merge-layers, and the facts files.
func extractForMerge(t *testing.T, dir string, pkgs ...apktest.Package) (args, facts []string) {
	t.Helper()
	for _, p := range pkgs {
		p.Unsigned = true
		b, err := apktest.Build(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		apk := filepath.Join(dir, p.Name+".apk")
		os.WriteFile(apk, b.APK, 0o644)
		o := func(s string) string { return filepath.Join(dir, p.Name+"."+s) }
		if err := apkExtract([]string{"--name", p.Name, "--version", p.Version, "--arch", "x86_64", "--part", apk,
			"--control-checksum", apktest.SRI("sha1", b.ControlSHA1), "--data-checksum", apktest.SRI("sha256", b.DataSHA256),
			"--blob", o("blob"), "--metadata", o("meta"), "--facts", o("facts")}); err != nil {
			t.Fatalf("apk-extract %s: %v", p.Name, err)
		}
		args = append(args, "--layer", o("blob")+"="+o("meta"))
		facts = append(facts, o("facts"))
	}
	for _, f := range facts {
		args = append(args, "--facts", f)
	}
	return args, facts
}

// mergeForTest runs merge-layers and returns the merged blob's path.
func mergeForTest(t *testing.T, dir string, args []string) string {
	t.Helper()
	blob, meta := filepath.Join(dir, "merged.tar.gz"), filepath.Join(dir, "merged.json")
	if err := mergeVerb(append(args, "--blob", blob, "--metadata", meta)); err != nil {
		t.Fatalf("merge-layers: %v", err)
	}
	return blob
}

type tarItem struct {
	h    *tar.Header
	data string
}

// tarItems reads a gzip layer's entries (a test layer: small).
func tarItems(t *testing.T, blob string) []tarItem {
	t.Helper()
	f, err := os.Open(blob)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var items []tarItem
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return items
		}
		if err != nil {
			t.Fatalf("reading %s: %v", blob, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, tarItem{h, string(b)})
	}
}

// Issue #11, 2: names are bytes. A file whose name is not UTF-8, in a package that is not
// the first of its group, is in the merged layer, and the installed db names it exactly.
func TestMergeLayersNonUTF8Names(t *testing.T) {
	dir := t.TempDir()
	const cafe = "usr/share/caf\xe9" // Latin-1 "café"
	args, facts := extractForMerge(t, dir,
		apktest.Package{Name: "first", Version: "1-r0", Files: []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/share", Dir: true}, {Path: "usr/share/first", Content: "1"}}},
		apktest.Package{Name: "latin1", Version: "1-r0", Files: []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/share", Dir: true},
			{Path: cafe, Content: "caf\xe9\n"}, {Path: "usr/share/menu\xff", Linkname: "caf\xe9"}}},
	)
	var names []string
	found := false
	for _, it := range tarItems(t, mergeForTest(t, dir, args)) {
		names = append(names, it.h.Name)
		if it.h.Name == cafe && it.data == "caf\xe9\n" {
			found = true
		}
	}
	if !found {
		t.Errorf("merged layer lacks %q: %q", cafe, names)
	}

	blob, meta := filepath.Join(dir, "db.tar.gz"), filepath.Join(dir, "db.json")
	if err := installdbVerb([]string{"--package", facts[0], "--package", facts[1], "--arch", "x86_64", "--blob", blob, "--metadata", meta}, io.Discard); err != nil {
		t.Fatal(err)
	}
	var db string
	for _, it := range tarItems(t, blob) {
		if it.h.Name == "usr/lib/apk/db/installed" {
			db = it.data
		}
	}
	if !strings.Contains(db, "F:usr/share\nR:caf\xe9\nZ:Q1") || !strings.Contains(db, "R:menu\xff\n") || strings.Contains(db, "\ufffd") {
		t.Errorf("installed db does not name the files' bytes:\n%q", db)
	}
	f, err := apkfile.ReadFacts(facts[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Files[2].Path + " " + f.Files[3].Path + " -> " + f.Files[3].Linkname; got != cafe+" usr/share/menu\xff -> caf\xe9" {
		t.Errorf("facts name %q", got)
	}
}

// Issue #11, 3: package a has f and a hardlink h to it, package b replaces f. apk writes
// b's f under a new inode, so a's h keeps a's content. The merged layer must give that,
// with every hardlink after its target, so tar can unpack it.
func TestMergeLayersHardlinkToReplacedFile(t *testing.T) {
	dir := t.TempDir()
	args, _ := extractForMerge(t, dir,
		apktest.Package{Name: "a", Version: "1-r0", Files: []apktest.File{
			{Path: "a", Dir: true}, {Path: "a/f", Content: "a's f\n", Mode: 0o750}, {Path: "a/g", Content: "g\n"},
			{Path: "b", Dir: true}, {Path: "b/h", Linkname: "a/f", Hardlink: true}, {Path: "b/h2", Linkname: "a/f", Hardlink: true},
			{Path: "c", Content: "c\n"}, {Path: "d", Linkname: "c", Hardlink: true}}},
		apktest.Package{Name: "b", Version: "1-r0", Replaces: []string{"a"}, Files: []apktest.File{
			{Path: "a", Dir: true}, {Path: "a/f", Content: "b's f\n"}}},
	)
	blob := mergeForTest(t, dir, args)
	seen := map[string]*tar.Header{}
	var list []string
	for _, it := range tarItems(t, blob) {
		h := it.h
		name := strings.TrimSuffix(h.Name, "/")
		list = append(list, fmt.Sprintf("%s %c %s %q", name, h.Typeflag, h.Linkname, it.data))
		if seen[name] != nil {
			t.Errorf("%s appears twice", name)
		}
		if h.Typeflag == tar.TypeLink {
			if target := seen[h.Linkname]; target == nil || target.Typeflag != tar.TypeReg {
				t.Errorf("hardlink %s -> %s comes before a regular file %s", name, h.Linkname, h.Linkname)
			}
		}
		seen[name] = h
	}
	t.Logf("merged layer:\n%s", strings.Join(list, "\n"))
	want := strings.Join([]string{
		`a 5  ""`, `b/h 0  "a's f\n"`, `a/g 0  "g\n"`, `b 5  ""`, `b/h2 1 b/h ""`, `c 0  "c\n"`, `d 1 c ""`, `a/f 0  "b's f\n"`,
	}, "\n")
	if got := strings.Join(list, "\n"); got != want {
		t.Errorf("merged layer:\n%s\nwant:\n%s", got, want)
	}
	if seen["b/h"] == nil || seen["b/h"].Mode != 0o750 {
		t.Errorf("b/h should keep the inode's mode 0750: %+v", seen["b/h"])
	}

	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar on PATH")
	}
	root := t.TempDir()
	out, err := exec.Command("tar", "-xzf", blob, "-C", root).CombinedOutput()
	if err != nil {
		t.Fatalf("tar -x: %v\n%s", err, out)
	}
	read := func(p string) string { b, _ := os.ReadFile(filepath.Join(root, p)); return string(b) }
	if read("a/f") != "b's f\n" || read("b/h") != "a's f\n" || read("b/h2") != "a's f\n" || read("d") != "c\n" {
		t.Fatalf("unpacked: a/f %q, b/h %q, b/h2 %q, d %q", read("a/f"), read("b/h"), read("b/h2"), read("d"))
	}
	h, _ := os.Stat(filepath.Join(root, "b/h"))
	h2, _ := os.Stat(filepath.Join(root, "b/h2"))
	if !os.SameFile(h, h2) {
		t.Error("b/h and b/h2 are not one inode")
	}
}

// Issue #11, 6: data tars that start with a global PAX header (as `git archive` writes)
// are extracted, and the merged layer has no global header (at the start or in the
// middle: its records would apply to every later entry, the other packages' too).
func TestMergeLayersGlobalPAXHeader(t *testing.T) {
	dir := t.TempDir()
	g := map[string]string{"comment": "0123456789abcdef0123456789abcdef01234567"}
	args, _ := extractForMerge(t, dir,
		apktest.Package{Name: "one", Version: "1-r0", GlobalPAX: g, Files: []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/one", Content: "1"}}},
		apktest.Package{Name: "two", Version: "1-r0", GlobalPAX: g, Files: []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/two", Content: "2"}}},
		apktest.Package{Name: "three", Version: "1-r0", GlobalPAX: g, Files: []apktest.File{{Path: "usr/three", Content: "3"}}},
	)
	var names []string
	for _, it := range tarItems(t, mergeForTest(t, dir, args)) {
		names = append(names, fmt.Sprintf("%s %c", it.h.Name, it.h.Typeflag))
	}
	if got := strings.Join(names, ","); got != "usr/ 5,usr/one 0,usr/two 0,usr/three 0" {
		t.Fatalf("merged entries %s", got)
	}
}

// apk-extract names both checksums of a mismatch in the lock's form (sha1-…/sha256-…
// base64), so they can be compared with the lock by eye.
func TestExtractChecksumMismatchMessages(t *testing.T) {
	f := newFixture(t)
	zero1, zero256 := apktest.SRI("sha1", make([]byte, 20)), apktest.SRI("sha256", make([]byte, 32))
	out := t.TempDir()
	for _, c := range []struct{ flag, lock, want string }{
		{"--control-checksum", zero1, "package pkg-1.0-r0 (x86_64): control member checksum mismatch: lock has " + zero1 +
			", file has " + apktest.SRI("sha1", f.b.ControlSHA1) + " (tampered or wrong file)"},
		{"--data-checksum", zero256, "package pkg-1.0-r0 (x86_64): data member checksum mismatch: lock has " + zero256 +
			", file has " + apktest.SRI("sha256", f.b.DataSHA256) + " (tampered or wrong file)"},
	} {
		err := apkExtract(append(f.extractArgs(out), c.flag, c.lock))
		if err == nil || err.Error() != c.want {
			t.Errorf("got %v\nwant %s", err, c.want)
		} else {
			t.Logf("a user reads: %v", err)
		}
	}
}

// apk-verify, for an unsigned package the lock pins: the .PKGINFO datahash (hex) is shown
// in the lock's form too.
func TestVerifyDatahashMismatchMessage(t *testing.T) {
	p, b := unsignedFixture(t, "glibc", apktest.File{Path: "lib/libc.so.6", Content: "elf"})
	other := *b
	other.DataSHA256 = make([]byte, 32)
	err := apkVerify(verifyArgs("glibc", p, &other, filepath.Join(t.TempDir(), "out.json")))
	want := fmt.Sprintf("package glibc-1.0-r0 (x86_64): not signed, and its .PKGINFO datahash %x (%s) is not the lock's data checksum %s",
		b.DataSHA256, apktest.SRI("sha256", b.DataSHA256), apktest.SRI("sha256", other.DataSHA256))
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	t.Logf("a user reads: %v", err)
}
