package index

import (
	"fmt"
	"strings"
)

// ValidVersion reports whether v is an apk version (apk_version_validate).
func ValidVersion(v string) bool {
	t := newTokenizer(v)
	for t.kind < tokEnd {
		t.next()
	}
	return t.kind == tokEnd
}

// CheckVersion returns an error naming v and where it stops being an apk version.
func CheckVersion(v string) error {
	t := newTokenizer(v)
	for t.kind < tokEnd {
		t.next()
	}
	if t.kind == tokEnd {
		return nil
	}
	return fmt.Errorf("%q is not an apk version (want digit{.digit}...{letter}{_suffix{N}}...{~hash}{-rN}): invalid at %q", v, v[t.at:])
}

// tokenCompare is apk's token_cmp for two tokens of the same kind.
func tokenCompare(a, b *tokenizer) int {
	switch a.kind {
	case tokDigit:
		// A dotted group with a leading zero compares as a string (1.01 < 1.1), as Gentoo does.
		if a.value[0] == '0' || b.value[0] == '0' {
			return strings.Compare(a.value, b.value)
		}
		return cmpUint(a.number, b.number)
	case tokInitialDigit, tokSuffixNo, tokRevision:
		return cmpUint(a.number, b.number)
	case tokLetter:
		return strings.Compare(a.value, b.value)
	case tokSuffix:
		return cmpUint(uint64(a.suffix), uint64(b.suffix))
	}
	return strings.Compare(a.value, b.value) // the commit hash
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare is apk_version_compare_fuzzy: -1, 0 or 1. With fuzzy, b matching a leading part
// of a token for token counts as equal.
func compare(a, b string, fuzzy bool) int {
	ta, tb := newTokenizer(a), newTokenizer(b)
	for ta.kind == tb.kind && ta.kind < tokEnd {
		if r := tokenCompare(ta, tb); r != 0 {
			return r
		}
		ta.next()
		tb.next()
	}
	switch {
	case ta.kind == tb.kind, tb.kind == tokEnd && fuzzy:
		return 0
	// What follows the equal leading tokens decides: a pre-release suffix is older than
	// anything, otherwise the version that goes on (the lower kind) is newer.
	case ta.kind == tokSuffix && ta.suffix < sufNone:
		return -1
	case tb.kind == tokSuffix && tb.suffix < sufNone:
		return 1
	case ta.kind > tb.kind:
		return -1
	}
	return 1
}

// CompareVersions orders apk versions as apk-tools 3 does: -1, 0 or 1. An invalid version
// orders by its valid leading tokens; where it turns invalid it is older than any token, the
// end included (1.0_foo < 1.0), and two versions turning invalid at the same token are equal.
func CompareVersions(a, b string) int {
	return compare(a, b, false)
}

// VersionFuzzyMatch reports whether actual matches required under apk's "~" operator:
// required's tokens are the leading tokens of actual (~1.2 matches 1.2, 1.2.3, 1.2_rc1 and
// 1.2-r4, not 1.20 or 1).
func VersionFuzzyMatch(actual, required string) bool {
	return compare(actual, required, true) == 0
}
