package apkfile_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// A facts file holds its entries as Entry's MarshalJSON writes them, and ReadFacts reads
// them back as UnmarshalJSON would, without calling either per entry.
func TestFactsFileSameAsEntryJSON(t *testing.T) {
	f := &apkfile.Facts{
		PkgInfo: &apkfile.PkgInfo{Name: "caf", Version: "1-r0", Arch: "x86_64", Depends: []string{"so:libc.so.6"}},
		Control: "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=", Data: "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		APKSize: 1234, ControlSize: 56,
		Scripts:   []apkfile.Script{{Name: ".post-install", Mode: 0o755, Content: []byte("#!/bin/sh\n")}},
		OSRelease: map[string]string{"etc/os-release": "ID=x\n"},
		Files:     append([]apkfile.Entry{{Path: "usr", Type: "dir", Mode: 0o755}}, oddNames...),
	}
	for _, files := range [][]apkfile.Entry{f.Files, {}, nil} {
		f.Files = files
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		got := f.Marshal()
		if string(got) != string(want)+"\n" {
			t.Fatalf("facts file:\n%s\nwant (through Entry's MarshalJSON):\n%s", got, want)
		}
		p := filepath.Join(t.TempDir(), "facts.json")
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := apkfile.ReadFacts(p)
		if err != nil {
			t.Fatal(err)
		}
		var viaMethods apkfile.Facts
		if err := json.Unmarshal(got, &viaMethods); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, f) || !reflect.DeepEqual(back, &viaMethods) {
			t.Fatalf("read back as %+v\nwant %+v", back, f)
		}
	}
}

// A facts file whose entry has a malformed base64 name fails, naming the file.
func TestReadFactsBadEntry(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.facts.json")
	if err := os.WriteFile(p, []byte(`{"pkginfo":{"name":"x","version":"1-r0"},"files":[{"path":"x","path_base64":"!!","type":"file"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := apkfile.ReadFacts(p)
	if err == nil || !strings.Contains(err.Error(), "package facts "+p+": ") || !strings.Contains(err.Error(), "base64") {
		t.Fatalf("got %v, want an error naming %s and the base64", err, p)
	}
	t.Log(err)
}

// The facts of a package of 5,000 files (a large Wolfi package), written and read as facts
// files are, and through Entry's JSON methods per entry (encoding/json's path for a
// []Entry) for comparison.
func BenchmarkFactsFile(b *testing.B) {
	f := &apkfile.Facts{PkgInfo: &apkfile.PkgInfo{Name: "big", Version: "1-r0"}}
	for i := range 5000 {
		f.Files = append(f.Files, apkfile.Entry{Path: "usr/lib/python3.13/site-packages/pkg/module_" + strings.Repeat("x", i%20) + ".py",
			Type: "file", Mode: 0o644, Size: int64(i), Checksum: "Q1qKq3kSYdTjdQV4elGinjFSJ5JEc="})
	}
	data := f.Marshal()
	p := filepath.Join(b.TempDir(), "facts.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			f.Marshal()
		}
	})
	b.Run("write-entry-methods", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(f)
		}
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, err := apkfile.ReadFacts(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-entry-methods", func(b *testing.B) {
		for b.Loop() {
			var g apkfile.Facts
			if err := json.Unmarshal(data, &g); err != nil {
				b.Fatal(err)
			}
		}
	})
}
