// Package redact removes secrets from text wharf prints: the userinfo of URLs, the values
// of headers, and values known to be secret. Every message that can quote a URL, an rc
// line, a header or a helper's output goes through it before it reaches a user or a log.
//
//	redact.URL("https://user:TOKEN@host/x")       // "https://user:***@host/x"
//	redact.Text(`parse "http://u:T@h": bad`)      // `parse "http://u:***@h": bad`
//	redact.Header("Authorization: Bearer T")      // "Authorization: ***"
//	redact.Error(err, token)                      // err's text without token or URL userinfo
package redact

import (
	"errors"
	"strings"
)

// Mask is what a secret is replaced with.
const Mask = "***"

// URL is raw with the password of its userinfo masked (`user:***@host`); a userinfo
// without a password is masked whole (`***@host`): a lone user name is often a token.
// raw need not parse as a URL.
func URL(raw string) string { return Text(raw) }

// Text is s with the userinfo of every URL in it (`scheme://userinfo@host`) masked as
// URL masks it.
func Text(s string) string {
	return eachUserinfo(s, func(userinfo string) string {
		if user, _, ok := strings.Cut(userinfo, ":"); ok {
			return user + ":" + Mask + "@"
		}
		return Mask + "@"
	})
}

// WithoutUserinfo is s with the userinfo of every URL in it removed
// (`https://user:pw@host/x` becomes `https://host/x`), byte for byte otherwise: for what is
// recorded (a lock, /etc/apk/repositories, an SBOM) rather than shown.
func WithoutUserinfo(s string) string {
	return eachUserinfo(s, func(string) string { return "" })
}

// eachUserinfo is s with the `userinfo@` of every URL in it replaced by with(userinfo).
func eachUserinfo(s string, with func(userinfo string) string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		at := strings.LastIndexByte(s[:authorityEnd(s)], '@')
		if at < 0 {
			continue
		}
		b.WriteString(with(s[:at]))
		s = s[at+1:]
	}
}

// authorityEnd is where the authority that s starts with ends: at a path, query,
// fragment, quote or white space, which a userinfo in a message cannot hold either.
func authorityEnd(s string) int {
	if i := strings.IndexAny(s, "/?#\"'` \t\r\n"); i >= 0 {
		return i
	}
	return len(s)
}

// Header is an HTTP header line (`Name: value`, or Bazel's `Name=value`) with its value
// masked; a line that is neither is masked whole.
func Header(line string) string {
	sep := strings.IndexAny(line, ":=")
	if sep < 0 {
		return Mask
	}
	name := strings.TrimSpace(line[:sep])
	if line[sep] == '=' {
		return name + "=" + Mask
	}
	return name + ": " + Mask
}

// Secrets is s with every non-empty secret replaced by Mask, and URL userinfo masked.
func Secrets(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return Text(s)
}

// Error is err with Secrets applied to its text; errors.Is and errors.As still see err.
// It is nil when err is.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &redacted{msg: Secrets(err.Error(), secrets...), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// Is reports whether err's text was redacted by Error.
func Is(err error) bool {
	var r *redacted
	return errors.As(err, &r)
}
