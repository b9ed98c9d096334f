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

// transitivitySamples are versions of every token class, valid and not, that each fuzzed
// pair is checked against for transitivity.
var transitivitySamples = []string{"0", "1", "1.0_alpha", "1.0_rc1", "1.0", "1.0-r1", "1.0~abc",
	"1.0_p1", "1.0a", "1.0.1", "1.01", "1.1", "1.10", "2", "1.0_foo", "1.0a2", "", "x"}

// FuzzCompareVersions: the order is reflexive, antisymmetric and transitive (on samples).
func FuzzCompareVersions(f *testing.F) {
	f.Add("1.0_rc1-r2", "1.0-r0")
	f.Add("1.01", "1.1")
	f.Add("1.0~abc-r1", "1.0_foo")
	f.Fuzz(func(t *testing.T, a, b string) {
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
		ab := CompareVersions(a, b)
		if ab != -CompareVersions(b, a) {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
		for _, c := range transitivitySamples {
			// a <= b <= c gives a <= c, strictly unless both are equal.
			if bc := CompareVersions(b, c); ab <= 0 && bc <= 0 && CompareVersions(a, c) != max(ab+bc, -1) {
				t.Fatalf("not transitive: %q %d %q %d %q but %q vs %q is %d", a, ab, b, bc, c, a, c, CompareVersions(a, c))
			}
		}
		// ~b matches what starts with b's tokens (1.2_rc1 matches ~1.2 though older), b too.
		if ValidVersion(b) && !VersionFuzzyMatch(b, b) {
			t.Fatalf("%q does not match ~itself", b)
		}
	})
}
