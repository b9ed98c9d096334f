package index

import (
	"fmt"
	"strings"
)

// Suffix order as apk-tools defines it: pre-releases below the plain release, post-release
// markers above it.
var suffixRank = map[string]int{"alpha": 1, "beta": 2, "pre": 3, "rc": 4, "": 5, "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}

type versionToken struct {
	kind int // 0 digits, 1 letter, 2 suffix, 3 revision, 4 commit hash, 5 end
	text string
}

// parseVersion splits an apk version: N(.N)*([a-z]N*)*(_suffix[N])*(~hash)?(-rN)?
func parseVersion(v string) ([]versionToken, error) {
	var toks []versionToken
	i := 0
	digits := func() string {
		j := i
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		s := v[i:j]
		i = j
		return s
	}
	d := digits()
	if d == "" {
		return nil, fmt.Errorf("version %q does not start with a digit", v)
	}
	toks = append(toks, versionToken{0, d})
	for i < len(v) && v[i] == '.' {
		i++
		d := digits()
		if d == "" {
			return nil, fmt.Errorf("version %q: empty number after '.'", v)
		}
		toks = append(toks, versionToken{0, d})
	}
	// A letter may follow the numbers, and digits may follow a letter (6.8.0p2), as apk-tools
	// tokenizes them.
	for i < len(v) && v[i] >= 'a' && v[i] <= 'z' {
		toks = append(toks, versionToken{1, v[i : i+1]})
		i++
		if d := digits(); d != "" {
			toks = append(toks, versionToken{0, d})
		}
	}
	for i < len(v) && v[i] == '_' {
		i++
		j := i
		for j < len(v) && v[j] >= 'a' && v[j] <= 'z' {
			j++
		}
		name := v[i:j]
		if _, ok := suffixRank[name]; !ok || name == "" {
			return nil, fmt.Errorf("version %q: unknown suffix %q", v, name)
		}
		i = j
		toks = append(toks, versionToken{2, name}, versionToken{0, digits()})
	}
	if i < len(v) && v[i] == '~' {
		j := i + 1
		for j < len(v) && strings.ContainsRune("0123456789abcdef", rune(v[j])) {
			j++
		}
		toks = append(toks, versionToken{4, v[i+1 : j]})
		i = j
	}
	if strings.HasPrefix(v[i:], "-r") {
		i += 2
		d := digits()
		if d == "" {
			return nil, fmt.Errorf("version %q: -r without a number", v)
		}
		toks = append(toks, versionToken{3, d})
	}
	if i != len(v) {
		return nil, fmt.Errorf("version %q: unexpected %q", v, v[i:])
	}
	return toks, nil
}

// ValidVersion reports whether v is an apk version.
func ValidVersion(v string) bool {
	_, err := parseVersion(v)
	return err == nil
}

func cmpNum(a, b string, fractional bool) int {
	// apk compares later dotted groups with a leading zero as decimal fractions (1.01 < 1.1).
	if fractional && (strings.HasPrefix(a, "0") || strings.HasPrefix(b, "0")) {
		return strings.Compare(a, b)
	}
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// CompareVersions orders apk versions: -1, 0 or 1. Invalid versions sort before valid ones
// and among themselves by string.
func CompareVersions(a, b string) int {
	ta, errA := parseVersion(a)
	tb, errB := parseVersion(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	// A commit hash (~abc123) names a build, it does not order versions.
	ta, tb = withoutHash(ta), withoutHash(tb)
	// Walk both token lists; a missing token compares as the "end" of that version.
	for i := 0; ; i++ {
		var x, y versionToken
		if i < len(ta) {
			x = ta[i]
		} else {
			x = versionToken{kind: 5}
		}
		if i < len(tb) {
			y = tb[i]
		} else {
			y = versionToken{kind: 5}
		}
		if x.kind == 5 && y.kind == 5 {
			return 0
		}
		if x.kind == y.kind {
			var c int
			switch x.kind {
			case 0:
				c = cmpNum(x.text, y.text, i > 0)
			case 1:
				c = strings.Compare(x.text, y.text)
			case 2:
				c = suffixRank[x.text] - suffixRank[y.text]
			case 3:
				c = cmpNum(x.text, y.text, false)
			}
			if c != 0 {
				return sign(c)
			}
			continue
		}
		return sign(rank(x) - rank(y))
	}
}

// rank orders different token kinds at the same position, as apk-tools does: a pre-release
// suffix is older than anything; otherwise more dotted digits > a letter > a post-release
// suffix > a revision > the end of the version.
func rank(t versionToken) int {
	switch t.kind {
	case 0:
		return 5
	case 1:
		return 4
	case 2:
		if suffixRank[t.text] < suffixRank[""] {
			return 0
		}
		return 3
	case 3:
		return 2
	}
	return 1 // end
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

func withoutHash(ts []versionToken) []versionToken {
	out := ts[:0:0]
	for _, t := range ts {
		if t.kind != 4 {
			out = append(out, t)
		}
	}
	return out
}

// VersionFuzzyMatch reports whether actual matches required under apk's "~" operator:
// actual begins with required's components (~1.2 matches 1.2, 1.2.3, 1.2_rc1 and 1.2-r4,
// not 1.20). A suffix without a number in required matches any number.
func VersionFuzzyMatch(actual, required string) bool {
	ta, errA := parseVersion(actual)
	tr, errR := parseVersion(required)
	if errA != nil || errR != nil {
		return false
	}
	ta, tr = withoutHash(ta), withoutHash(tr)
	if len(tr) > len(ta) {
		return false
	}
	for i, t := range tr {
		a := ta[i]
		if a.kind != t.kind {
			return false
		}
		switch t.kind {
		case 0:
			if t.text != "" && cmpNum(a.text, t.text, i > 0) != 0 {
				return false
			}
		case 3:
			if cmpNum(a.text, t.text, false) != 0 {
				return false
			}
		default:
			if a.text != t.text {
				return false
			}
		}
	}
	return true
}
