package resolve

import "testing"

// TestConstraintGrammar: apk's [!]name[@tag][op version] and apko's name[op version][@tag],
// with operators as apk-tools adds their bits up.
func TestConstraintGrammar(t *testing.T) {
	for _, c := range []struct {
		in               string
		name, op, v, pin string
	}{
		{"busybox", "busybox", "", "", ""},
		{"busybox@edge", "busybox", "", "", "edge"},
		{"busybox@edge>=1.36", "busybox", ">=", "1.36", "edge"},
		{"busybox>=1.36@edge", "busybox", ">=", "1.36", "edge"},
		{"busybox=>1.36", "busybox", "=>", "1.36", ""},
		{"busybox=~1.36", "busybox", "~", "1.36", ""},
		{"busybox>~1.36", "busybox", ">~", "1.36", ""},
		{"busybox<~1.36", "busybox", "<~", "1.36", ""},
		{"busybox==1.36-r0", "busybox", "==", "1.36-r0", ""},
		{"busybox=1.36~abc123-r0", "busybox", "=", "1.36~abc123-r0", ""},
	} {
		got, err := ParseConstraint(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got.Name != c.name || string(got.Op) != c.op || got.Version != c.v || got.Pin != c.pin {
			t.Errorf("%s: got %+v", c.in, got)
		}
	}
}

// TestFuzzyOperators: ~, >~ and <~ as apk_version_match decides them.
func TestFuzzyOperators(t *testing.T) {
	for _, c := range []struct {
		constraint, version string
		ok                  bool
	}{
		{"a~1.2", "1.2.9", true}, {"a~1.2", "1.20", false}, {"a~1.2", "1.2_rc1", true},
		{"a>~1.2", "1.2.3", true}, {"a>~1.2", "1.1", false}, {"a>=1.2", "1.2.3", true},
		{"a<~1.2", "1.2.3", true}, {"a<=1.2", "1.2.3", false}, {"a<~1.2", "1.3", false},
		{"a=>1.2", "1.3", true}, {"a=>1.2", "1.1", false},
		{"a<1.2", "1.2_foo", true}, // an invalid version orders by its valid part, as apk's does
		{"a=1.2", "", false},       // an unversioned provide satisfies no version
	} {
		p, err := ParseConstraint(c.constraint)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.VersionOK(c.version); got != c.ok {
			t.Errorf("%q satisfies %q: %v, want %v", c.version, c.constraint, got, c.ok)
		}
	}
}
