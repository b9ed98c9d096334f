package apkfile_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

var testKey, otherKey *apktest.Key

func init() {
	var err error
	if testKey, err = apktest.NewKey("test.rsa.pub"); err != nil {
		panic(err)
	}
	if otherKey, err = apktest.NewKey("test.rsa.pub"); err != nil {
		panic(err)
	}
}

func build(t *testing.T, mod func(*apktest.Package)) *apktest.Built {
	t.Helper()
	b, err := apktest.Build(apktest.Sample(mod), testKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ring(keys ...*apktest.Key) apkfile.Keyring {
	r := apkfile.Keyring{}
	for _, k := range keys {
		if err := r.AddPEM(k.Name, k.PublicPEM()); err != nil {
			panic(err)
		}
	}
	return r
}

func TestReadHeadAndData(t *testing.T) {
	for _, sha256sig := range []bool{false, true} {
		b := build(t, func(p *apktest.Package) { p.SHA256Signature = sha256sig })
		h, rest, err := apkfile.ReadHead(bytes.NewReader(b.APK))
		if err != nil {
			t.Fatal(err)
		}
		if h.SignatureSize != b.SigSize || int64(len(h.Control)) != b.ControlSize || h.DataOffset() != b.SigSize+b.ControlSize {
			t.Fatalf("member sizes %d/%d, want %d/%d", h.SignatureSize, len(h.Control), b.SigSize, b.ControlSize)
		}
		if !bytes.Equal(h.ControlSHA1(), b.ControlSHA1) {
			t.Fatal("control sha1")
		}
		pi := h.PkgInfo
		if pi.Name != "hello" || pi.Version != "1.2.3-r4" || pi.Origin != "hello-src" || pi.License != "MIT" ||
			strings.Join(pi.Depends, ",") != "so:libc.musl-x86_64.so.1" || strings.Join(pi.Provides, ",") != "cmd:hello=1.2.3-r4" {
			t.Fatalf("pkginfo %+v", pi)
		}
		if got := strings.Join(h.ControlNames, ","); got != ".PKGINFO,.post-install" {
			t.Fatalf("control names %s", got)
		}
		signer, err := ring(testKey).VerifySignature(h.Signatures, h.Control)
		if err != nil || signer != "test.rsa.pub" {
			t.Fatalf("verify: %q %v", signer, err)
		}
		if want := map[bool]string{false: "sha1", true: "sha256"}[sha256sig]; h.Signatures[0].Hash != want {
			t.Fatalf("hash %s, want %s", h.Signatures[0].Hash, want)
		}
		var data bytes.Buffer
		res, err := rest.CopyData(&data, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(res.SHA256, b.DataSHA256) || res.Size != b.DataSize || !bytes.Equal(data.Bytes(), b.APK[b.SigSize+b.ControlSize:]) {
			t.Fatal("data member differs")
		}
		if d, _ := apkfile.HexDataHash(pi.DataHash); !bytes.Equal(d, res.SHA256) {
			t.Fatal("datahash")
		}
		var diff [32]byte
		if res.DiffID == nil || bytes.Equal(res.DiffID, diff[:]) {
			t.Fatal("no diff id")
		}
	}
}

func TestUnsigned(t *testing.T) {
	b := build(t, func(p *apktest.Package) { p.Unsigned = true })
	h, _, err := apkfile.ReadHead(bytes.NewReader(b.APK))
	if err != nil {
		t.Fatal(err)
	}
	if h.SignatureSize != 0 || len(h.Signatures) != 0 {
		t.Fatal("unsigned package has signatures")
	}
	if _, err := ring(testKey).VerifySignature(h.Signatures, h.Control); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("want 'not signed', got %v", err)
	}
}

func TestWrongAndUnknownKey(t *testing.T) {
	b := build(t, nil)
	h, _, err := apkfile.ReadHead(bytes.NewReader(b.APK))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ring(otherKey).VerifySignature(h.Signatures, h.Control)
	if err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("wrong key: %v", err)
	}
	other, _ := apktest.NewKey("someone-else.rsa.pub")
	_, err = ring(other).VerifySignature(h.Signatures, h.Control)
	if err == nil || !strings.Contains(err.Error(), `"test.rsa.pub", which is not in the keyring [someone-else.rsa.pub]`) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestTamperedControlFailsSignature(t *testing.T) {
	b := build(t, nil)
	// Re-build the control member with a different description but keep the signature.
	b2 := build(t, func(p *apktest.Package) { p.Description = "evil" })
	tampered := append(append(append([]byte(nil), b.APK[:b.SigSize]...), b2.APK[b2.SigSize:b2.SigSize+b2.ControlSize]...), b2.APK[b2.SigSize+b2.ControlSize:]...)
	h, _, err := apkfile.ReadHead(bytes.NewReader(tampered))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring(testKey).VerifySignature(h.Signatures, h.Control); err == nil {
		t.Fatal("tampered control verified")
	}
}

func TestTruncated(t *testing.T) {
	b := build(t, nil)
	for _, n := range []int64{0, 10, b.SigSize - 5, b.SigSize + 10, b.SigSize + b.ControlSize - 3} {
		_, _, err := apkfile.ReadHead(bytes.NewReader(b.APK[:n]))
		if err == nil {
			t.Errorf("truncated at %d: no error", n)
		}
	}
	// Truncated inside the data member: the head reads, the data does not.
	h, rest, err := apkfile.ReadHead(bytes.NewReader(b.APK[:len(b.APK)-9]))
	if err != nil {
		t.Fatal(err)
	}
	_ = h
	if _, err := rest.CopyData(nil, 1<<20); err == nil {
		t.Error("truncated data member: no error")
	}
}

func TestZipBombBounded(t *testing.T) {
	b := build(t, func(p *apktest.Package) {
		p.Files = []apktest.File{{Path: "big", Content: strings.Repeat("\x00", 4<<20)}}
	})
	_, rest, err := apkfile.ReadHead(bytes.NewReader(b.APK))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rest.CopyData(nil, 1<<20); err == nil || !strings.Contains(err.Error(), "expands beyond") {
		t.Fatalf("want expansion error, got %v", err)
	}
}

func TestSRI(t *testing.T) {
	s := sha256.Sum256([]byte("x"))
	sri := apktest.SRI("sha256", s[:])
	p, err := apkfile.ParseSRI(sri)
	if err != nil || p.String() != sri || !p.Check([]byte("x")) || p.Check([]byte("y")) {
		t.Fatalf("%v %v", p, err)
	}
	for _, bad := range []string{"md5-AAAA", "sha256-!!!", "sha1-AAAA", "nodash"} {
		if _, err := apkfile.ParseSRI(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParsePkgInfo(t *testing.T) {
	p, err := apkfile.ParsePkgInfo([]byte("# c\npkgname = a\npkgver = 1-r0\ndepend = b c\ndepend = d\nfoo = bar\n"))
	if err != nil || p.Name != "a" || strings.Join(p.Depends, " ") != "b c d" || p.Other["foo"][0] != "bar" {
		t.Fatalf("%+v %v", p, err)
	}
	for _, bad := range []string{"pkgname = a\n", "pkgname a\npkgver = 1\n", " = x\npkgname = a\npkgver = 1\n"} {
		if _, err := apkfile.ParsePkgInfo([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestDataTarEscapes(t *testing.T) {
	for name, files := range map[string][]apktest.File{
		"dotdot":           {{Path: "../etc/passwd", Content: "x"}},
		"absolute":         {{Path: "/etc/passwd", Content: "x"}},
		"through symlink":  {{Path: "lib", Linkname: "/etc"}, {Path: "lib/passwd", Content: "x"}},
		"hardlink outside": {{Path: "a", Content: "x"}, {Path: "b", Linkname: "../../etc/shadow", Hardlink: true}},
		"hardlink unknown": {{Path: "b", Linkname: "nowhere", Hardlink: true}},
	} {
		b, err := apktest.Build(apktest.Package{Name: "evil", Version: "1-r0", Files: files}, testKey)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, err := apkfile.ReadHead(bytes.NewReader(b.APK))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rest.CopyData(nil, 1<<20); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// dataEntries reads a built package's data tar through CopyData.
func dataEntries(t *testing.T, p apktest.Package) ([]apkfile.Entry, error) {
	t.Helper()
	b, err := apktest.Build(p, testKey)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, err := apkfile.ReadHead(bytes.NewReader(b.APK))
	if err != nil {
		t.Fatal(err)
	}
	d, err := rest.CopyData(nil, 1<<20)
	if err != nil {
		return nil, err
	}
	return d.Entries, nil
}

// A data tar that starts with a global PAX header, as `git archive` writes one, is read:
// the header is skipped (apk-tools skips it too) and is not recorded as a file.
func TestDataTarGlobalPAXHeader(t *testing.T) {
	es, err := dataEntries(t, apktest.Package{Name: "git", Version: "1-r0",
		GlobalPAX: map[string]string{"comment": "0123456789abcdef0123456789abcdef01234567"},
		Files:     []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/share", Dir: true}, {Path: "usr/share/README", Content: "x"}}})
	if err != nil {
		t.Fatalf("a user reads: %v", err)
	}
	var paths []string
	for _, e := range es {
		paths = append(paths, e.Path)
	}
	if got := strings.Join(paths, ","); got != "usr,usr/share,usr/share/README" {
		t.Fatalf("entries %s", got)
	}
}

// Paths that cannot all exist: an entry below a non-directory of the package (in either
// order), and one path as two different types.
func TestDataTarPathConflicts(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []apktest.File
		want  string
	}{
		{"below a file", []apktest.File{{Path: "a", Content: "x"}, {Path: "a/b", Content: "y"}},
			`data member: entry "a/b" is below "a", which is a regular file`},
		{"dir below a file", []apktest.File{{Path: "a", Content: "x"}, {Path: "a/d", Dir: true}},
			`data member: entry "a/d" is below "a", which is a regular file`},
		{"deep below a file", []apktest.File{{Path: "a", Content: "x"}, {Path: "a/d/e/f", Content: "y"}},
			`data member: entry "a/d/e/f" is below "a", which is a regular file`},
		{"below a hardlink", []apktest.File{{Path: "f", Content: "x"}, {Path: "h", Linkname: "f", Hardlink: true}, {Path: "h/x", Content: "y"}},
			`data member: entry "h/x" is below "h", which is a hardlink`},
		{"file after an entry below it", []apktest.File{{Path: "a/b", Content: "y"}, {Path: "a", Content: "x"}},
			`data member: entry "a" is a regular file, but the earlier entry "a/b" is below it`},
		{"symlink after an entry below it", []apktest.File{{Path: "a/b/c", Content: "y"}, {Path: "a", Linkname: "/etc"}},
			`data member: entry "a" is a symlink, but the earlier entry "a/b/c" is below it`},
		{"dir then file", []apktest.File{{Path: "a", Dir: true}, {Path: "a", Content: "x"}},
			`data member: entry "a" appears twice: a directory, then a regular file`},
		{"file then dir", []apktest.File{{Path: "a", Content: "x"}, {Path: "a", Dir: true}},
			`data member: entry "a" appears twice: a regular file, then a directory`},
		{"file twice", []apktest.File{{Path: "a", Content: "x"}, {Path: "a", Content: "y"}},
			`data member: entry "a" appears twice: a regular file, then a regular file`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := dataEntries(t, apktest.Package{Name: "bad", Version: "1-r0", KeepOrder: true, Files: c.files})
			if err == nil || err.Error() != c.want {
				t.Fatalf("got %v\nwant %s", err, c.want)
			}
			t.Logf("a user reads: %v", err)
		})
	}
	// A directory listed twice, and files below directories, are fine.
	if _, err := dataEntries(t, apktest.Package{Name: "good", Version: "1-r0", KeepOrder: true, Files: []apktest.File{
		{Path: "a", Dir: true}, {Path: "a/b", Content: "x"}, {Path: "a", Dir: true, Mode: 0o700}, {Path: "ab", Content: "y"}, {Path: "c/d", Content: "z"}, {Path: "c", Dir: true}}}); err != nil {
		t.Fatal(err)
	}
}

// oddNames are entries whose names JSON cannot hold as they are: not UTF-8, or characters
// encoding/json escapes.
var oddNames = []apkfile.Entry{
	{Path: "usr/share/caf\xe9", Type: "file", Mode: 0o644, Size: 5, Checksum: "Q1abc="},
	{Path: "usr/share/l\xff", Type: "symlink", Mode: 0o777, Linkname: "caf\xe9"},
	{Path: "usr/share/h", Type: "hardlink", Mode: 0o644, Linkname: "usr/share/caf\xe9"},
	{Path: "usr/share/café <&>", Type: "symlink", Mode: 0o777, Linkname: "x\u2028y"},
}

// Entry names are bytes: the JSON form (the package facts) keeps names that are not UTF-8
// exactly, in path_base64/linkname_base64 beside the readable form; UTF-8 names have
// only the readable form.
func TestEntryJSONKeepsNameBytes(t *testing.T) {
	for _, e := range oddNames {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back apkfile.Entry
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back != e {
			t.Errorf("%s read back as %q, want %q", b, back.Path+" -> "+back.Linkname, e.Path+" -> "+e.Linkname)
		}
		if utf8.ValidString(e.Path) == strings.Contains(string(b), `"path_base64"`) ||
			utf8.ValidString(e.Linkname) == strings.Contains(string(b), `"linkname_base64"`) {
			t.Errorf("%s: base64 forms must be there exactly for names that are not UTF-8", b)
		}
		t.Logf("%s", b)
	}
	// The base64 form wins over the readable one.
	var e apkfile.Entry
	if err := json.Unmarshal([]byte(`{"path":"caf\ufffd","path_base64":"Y2Fm6Q==","type":"file","mode":420,"uid":0,"gid":0}`), &e); err != nil || e.Path != "caf\xe9" {
		t.Fatalf("%q %v", e.Path, err)
	}
	if err := json.Unmarshal([]byte(`{"path":"x","path_base64":"!!","type":"file"}`), &e); err == nil {
		t.Fatal("malformed path_base64 accepted")
	}
}
