package resolve

import (
	"testing"
)

// Seeds live in testdata/fuzz/FuzzParseConstraint/ (committed); run with
//	go test -fuzz=FuzzParseConstraint -fuzztime=60s ./tools/internal/apk/resolve/

// FuzzParseConstraint: any text parses or fails cleanly; what parses has a name, and a
// versioned constraint accepts its own version under = (and >= and <=).
func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{"busybox", "busybox=1.36.1-r5", "so:libc.musl-x86_64.so.1=1", "!foo<2", "x~1.2@local", "cmd:sh>=1_rc2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConstraint(s)
		if err != nil {
			return
		}
		if c.Name == "" {
			t.Fatalf("%q parsed without a name", s)
		}
		if c.Op == Any {
			return
		}
		for _, op := range []Op{Equal, GreaterEqual, LessEqual, Fuzzy, GreaterFuzzy, LessFuzzy} {
			d := c
			d.Op = op
			if !d.VersionOK(c.Version) {
				t.Fatalf("%q: version %q does not satisfy %s itself", s, c.Version, op)
			}
		}
		for _, op := range []Op{Greater, Less} {
			d := c
			d.Op = op
			if d.VersionOK(c.Version) {
				t.Fatalf("%q: version %q satisfies %s itself", s, c.Version, op)
			}
		}
	})
}
