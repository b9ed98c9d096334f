package index

import (
	"bytes"
	"testing"
)

// Seeds live in testdata/fuzz/<Fuzz name>/ (committed); run with
//	go test -fuzz=FuzzParseIndex -fuzztime=60s ./tools/internal/apk/index/

// FuzzParseIndex: any bytes parse or fail cleanly.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte("C:Q1AAAA\nP:a\nV:1.0-r0\nA:x86_64\nS:1\nI:1\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if idx, err := ParseIndex(bytes.NewReader(b)); err == nil {
			for _, e := range idx.Entries {
				if e.Name == "" || e.Version == "" {
					t.Fatal("entry without name or version")
				}
			}
		}
		ParseIndexText(b)
	})
}

// FuzzCompareVersions: the order is reflexive and antisymmetric.
func FuzzCompareVersions(f *testing.F) {
	f.Add("1.0_rc1-r2", "1.0-r0")
	f.Add("1.01", "1.1")
	f.Fuzz(func(t *testing.T, a, b string) {
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
		if CompareVersions(a, b) != -CompareVersions(b, a) {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
	})
}
