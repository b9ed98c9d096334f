package index

import "strings"

// The rules below follow apk-tools 3 (src/version.c) token for token:
//
//	digit{.digit}...{letter}{_suffix{digits}}...{~hash}{-rN}
//
// Each token may only follow the kinds before it in that list; anything else makes the version
// invalid from that point on. Comparison walks both versions while their token kinds agree,
// so an invalid version still orders by its valid prefix, as apk does.

// Token kinds, in apk's order: a later kind at the same position means an older version,
// except a pre-release suffix, which is older than anything.
const (
	tokInitialDigit = iota
	tokDigit
	tokLetter
	tokSuffix
	tokSuffixNo
	tokCommitHash
	tokRevision
	tokEnd
	tokInvalid
)

// Suffix values: pre-releases below sufNone (the plain release), post-releases above it.
const (
	sufInvalid = iota
	sufAlpha
	sufBeta
	sufPre
	sufRC
	sufNone
	sufCVS
	sufSVN
	sufGit
	sufHg
	sufP
)

var suffixes = map[string]int{"alpha": sufAlpha, "beta": sufBeta, "pre": sufPre, "rc": sufRC,
	"cvs": sufCVS, "svn": sufSVN, "git": sufGit, "hg": sufHg, "p": sufP}

// tokenizer is apk's token_state: the current token and the rest of the version.
type tokenizer struct {
	kind   int
	suffix int
	number uint64 // wraps on overflow like apk's uint64_t
	value  string
	rest   string
	n, at  int // the version's length and where the current token starts, for errors
}

func newTokenizer(v string) *tokenizer {
	t := &tokenizer{kind: tokInitialDigit, rest: v, n: len(v)}
	t.digits()
	return t
}

func span(s string, ok func(byte) bool) int {
	i := 0
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isHex(c byte) bool   { return isDigit(c) || (c >= 'a' && c <= 'f') }

func (t *tokenizer) take(n int) {
	t.value, t.rest = t.rest[:n], t.rest[n:]
}

func (t *tokenizer) digits() {
	t.take(span(t.rest, isDigit))
	t.number = 0
	for i := 0; i < len(t.value); i++ {
		t.number = t.number*10 + uint64(t.value[i]-'0')
	}
	if t.value == "" {
		t.kind = tokInvalid
	}
}

// next is apk's token_next: it reads one token and checks that it may follow the last one.
func (t *tokenizer) next() {
	t.at = t.n - len(t.rest)
	if t.rest == "" {
		t.kind = tokEnd
		return
	}
	switch c := t.rest[0]; {
	case isLower(c) && t.kind <= tokDigit:
		t.take(1)
		t.kind = tokLetter
	case c == '.' && t.kind <= tokDigit:
		t.rest = t.rest[1:]
		t.kind = tokDigit
		t.digits()
	case isDigit(c) && t.kind <= tokDigit:
		t.kind = tokDigit
		t.digits()
	case isDigit(c) && t.kind == tokSuffix:
		t.kind = tokSuffixNo
		t.digits()
	case c == '_' && t.kind <= tokSuffixNo:
		t.rest = t.rest[1:]
		t.take(span(t.rest, isLower))
		t.kind, t.suffix = tokSuffix, suffixes[t.value]
		if t.suffix == sufInvalid {
			t.kind = tokInvalid
		}
	case c == '~' && t.kind < tokCommitHash:
		t.rest = t.rest[1:]
		t.take(span(t.rest, isHex))
		t.kind = tokCommitHash
		if t.value == "" {
			t.kind = tokInvalid
		}
	case strings.HasPrefix(t.rest, "-r") && t.kind < tokRevision:
		t.rest = t.rest[2:]
		t.kind = tokRevision
		t.digits()
	default:
		t.kind = tokInvalid
	}
}
