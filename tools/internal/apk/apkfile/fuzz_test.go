package apkfile

import (
	"bytes"
	"encoding/json"
	"testing"
)

// Seeds live in testdata/fuzz/<Fuzz name>/ (committed); run with
//	go test -fuzz=FuzzReadPackage -fuzztime=60s ./tools/internal/apk/apkfile/

// FuzzReadPackage feeds arbitrary bytes to the APK reader: it must return an error or a
// result, never panic, and never read past the data member's expansion bound.
func FuzzReadPackage(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, rest, err := ReadHead(bytes.NewReader(b))
		if err != nil {
			return
		}
		if h.PkgInfo == nil || h.PkgInfo.Name == "" {
			t.Fatal("head without a package name")
		}
		rest.CopyData(nil, 1<<20)
	})
}

// FuzzParsePkgInfo: any input parses or fails cleanly; a parsed result has name and version.
func FuzzParsePkgInfo(f *testing.F) {
	f.Add([]byte("pkgname = a\npkgver = 1-r0\ndepend = b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePkgInfo(b)
		if err == nil && (p.Name == "" || p.Version == "") {
			t.Fatal("parsed without name or version")
		}
	})
}

// FuzzParseSRI: a parsed checksum renders back to itself.
func FuzzParseSRI(f *testing.F) {
	f.Add("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
	f.Add("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=")
	f.Fuzz(func(t *testing.T, s string) {
		sri, err := ParseSRI(s)
		if err == nil && sri.String() != s {
			t.Fatalf("%q rendered as %q", s, sri.String())
		}
	})
}

// FuzzEntryJSON: an entry's names, whatever their bytes, read back from its JSON form
// (the package facts) exactly.
func FuzzEntryJSON(f *testing.F) {
	f.Add("usr/share/caf\xe9", "caf\xe9")
	f.Add("etc/motd", "")
	f.Add("a\u2028<&>\x00", "\xff\xfe")
	f.Fuzz(func(t *testing.T, p, link string) {
		e := Entry{Path: p, Type: "symlink", Mode: 0o777, Linkname: link}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back Entry
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if back != e {
			t.Fatalf("%q -> %q read back from %s as %q -> %q", p, link, b, back.Path, back.Linkname)
		}
	})
}
