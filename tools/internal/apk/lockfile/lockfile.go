// Package lockfile reads and writes apko lock files (apko.lock.json).
//
// Parse accepts every shape apko has written (version v1, with or without `config`,
// packages with or without `checksum` (before apko 0.13), keyrings by `url` or embedded
// `content`, with or without build/runtime repositories) and checks each entry as
// apk/private/lock.bzl does, with the same messages: both parsers run the one corpus of
// cases in apk/private/tests/lock_corpus. Marshal writes the shape current apko writes,
// byte for byte: its field order, two-space indent, trailing newline.
package lockfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/redact"
)

// Lock is an apko lock.
type Lock struct {
	Version  string   `json:"version"`
	Config   *Config  `json:"config,omitempty"`
	Contents Contents `json:"contents"`
}

// Config identifies the configuration the lock was made from.
type Config struct {
	Name string `json:"name,omitempty"`
	// Checksum is "sha256-" + base64 of the configuration file (and files it includes).
	Checksum string `json:"checksum,omitempty"`
}

// Contents is what the lock pins. Field order is apko's.
type Contents struct {
	Keyring             []Keyring `json:"keyring"`
	BuildRepositories   []Repo    `json:"build_repositories"`
	RuntimeRepositories []Repo    `json:"runtime_repositories"`
	Repositories        []Repo    `json:"repositories"`
	// Packages in install order, architecture after architecture.
	Packages []Package `json:"packages"`
	// Archs are architectures the lock covers beyond its repositories' and packages' (a lock
	// with no packages for one); apko does not write it.
	Archs []string `json:"archs,omitempty"`
}

// Keyring is a public key, by URL or (older locks) embedded content.
type Keyring struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Content string `json:"content,omitempty"`
}

// Repo is one repository for one architecture.
type Repo struct {
	Name         string `json:"name"`
	URL          string `json:"url"`
	Architecture string `json:"architecture"`
}

// Range is a byte range of a package and the checksum of those bytes.
type Range struct {
	Range    string `json:"range"`
	Checksum string `json:"checksum"`
}

// Package is one locked package, as the lock writes it.
type Package struct {
	Name         string `json:"name"`
	URL          string `json:"url"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	Signature    Range  `json:"signature"`
	Control      Range  `json:"control"`
	Data         Range  `json:"data"`
	// Checksum is "Q1" + base64(sha1 of the control member); empty in locks before apko 0.13.
	Checksum string `json:"checksum"`
}

// Record is one locked package as rules_wharf uses it: apk/private/lock.bzl's
// locked_package, field for field (PACKAGE_FIELDS; the corpus checks both). The control
// checksum comes from the package checksum when the lock has only that.
type Record struct {
	PackageName       string `json:"package_name"`
	Version           string `json:"version"`
	Arch              string `json:"arch"`
	URL               string `json:"url"`
	SignatureRange    string `json:"signature_range"`
	SignatureChecksum string `json:"signature_checksum"`
	ControlRange      string `json:"control_range"`
	ControlChecksum   string `json:"control_checksum"`
	DataRange         string `json:"data_range"`
	DataChecksum      string `json:"data_checksum"`
}

// Record is the package's record.
func (p *Package) Record() Record {
	control := p.Control.Checksum
	if control == "" && p.Checksum != "" {
		control = "sha1-" + strings.TrimPrefix(p.Checksum, "Q1")
	}
	return Record{
		PackageName: p.Name, Version: p.Version, Arch: p.Architecture, URL: p.URL,
		SignatureRange: p.Signature.Range, SignatureChecksum: p.Signature.Checksum,
		ControlRange: p.Control.Range, ControlChecksum: control,
		DataRange: p.Data.Range, DataChecksum: p.Data.Checksum,
	}
}

// Label names the package in messages.
func (p *Package) Label() string {
	return fmt.Sprintf("%s-%s (%s)", p.Name, p.Version, p.Architecture)
}

// Marshal renders the lock as apko does (json.MarshalIndent with two spaces, then "\n").
// Nil lists are written as [] as apko writes them.
func Marshal(l *Lock) ([]byte, error) {
	c := *l
	nonNil := func(r []Repo) []Repo {
		if r == nil {
			return []Repo{}
		}
		return r
	}
	c.Contents.BuildRepositories = nonNil(c.Contents.BuildRepositories)
	c.Contents.RuntimeRepositories = nonNil(c.Contents.RuntimeRepositories)
	c.Contents.Repositories = nonNil(c.Contents.Repositories)
	if c.Contents.Keyring == nil {
		c.Contents.Keyring = []Keyring{}
	}
	if c.Contents.Packages == nil {
		c.Contents.Packages = []Package{}
	}
	if c.Version == "" {
		c.Version = "v1"
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// KeyName is the key's file name, the name signatures refer to (.SIGN.RSA.<name>): the
// URL's last segment (the name's without one), printable ASCII escapes decoded (Alpine's
// key URLs write the @ of the name as %40).
func KeyName(k Keyring) string {
	if k.URL != "" {
		return percentDecode(basename(k.URL))
	}
	return percentDecode(basename(k.Name))
}

func basename(u string) string {
	u = strings.TrimRight(u, "/")
	return u[strings.LastIndex(u, "/")+1:]
}

// percentDecode decodes each %XX of a printable ASCII character and leaves other escapes
// as they are, as lock.bzl's percent_decode does.
func percentDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if c, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil && c >= 0x20 && c < 0x7f {
				b.WriteByte(byte(c))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// RepoBase is the repository's base as /etc/apk/repositories names it: apko records
// "<base>/<arch>"; older locks record the base itself.
func RepoBase(r Repo) string {
	if r.Architecture != "" && strings.HasSuffix(r.Name, "/"+r.Architecture) {
		return strings.TrimSuffix(r.Name, "/"+r.Architecture)
	}
	return r.Name
}

// RepositoryLine is the /etc/apk/repositories line apko writes for the configuration a lock
// entry came from: the APKINDEX url without "/<arch>/APKINDEX.tar.gz", scheme kept, and a
// tag where the lock kept one (apko 0.13-0.16). apk/private/lock.bzl's repository_line is
// the same function, with the same test cases. A URL's userinfo is left out: the image is
// shipped, and the lock should not have held it (netrc or a credential helper should).
func RepositoryLine(r Repo) string {
	tag, name := "", r.Name
	if strings.HasPrefix(name, "@") {
		t, rest, _ := strings.Cut(name, " ")
		tag, name = t+" ", rest
	}
	base := strings.TrimSuffix(r.URL, "/APKINDEX.tar.gz")
	if base == "" {
		base = name
	}
	if tag != "" && strings.HasPrefix(base, "@") {
		_, base, _ = strings.Cut(base, " ")
	}
	if r.Architecture != "" {
		base = strings.TrimSuffix(base, "/"+r.Architecture)
	}
	if base == "" {
		return ""
	}
	return redact.WithoutUserinfo(tag + base)
}

// RepositoryLines are the /etc/apk/repositories lines of each architecture: the
// repositories' and the runtime-only ones', sorted and each once, as apko writes them;
// build-only repositories served the lock and are not in the image.
func (l *Lock) RepositoryLines() map[string][]string {
	out := map[string][]string{}
	for _, rs := range [][]Repo{l.Contents.Repositories, l.Contents.RuntimeRepositories} {
		for _, r := range rs {
			line := RepositoryLine(r)
			if r.Architecture != "" && !contains(out[r.Architecture], line) {
				out[r.Architecture] = append(out[r.Architecture], line)
			}
		}
	}
	for _, lines := range out {
		sort.Strings(lines)
	}
	return out
}

// badName says why a package's name, version or architecture cannot be one: they become
// file names (the installed database, repository and cache paths), so no "/", no "." or
// "..", no spaces or control characters, as apk itself never makes them. "" if fine.
func badName(s string) string {
	switch {
	case s == "." || s == "..":
		return "it is a relative directory name"
	case strings.ContainsAny(s, "/\\"):
		return "it contains a path separator"
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return "it contains a space or control character"
		}
	}
	return ""
}

// errEndBeforeStart marks a range whose end lies before its start.
var errEndBeforeStart = errors.New("it ends before it starts")

// rangeError is a malformed range; its message is lock.bzl's, whatever the cause.
type rangeError struct {
	r   string
	err error
}

func (e *rangeError) Error() string {
	return fmt.Sprintf("malformed range %q (want bytes=FIRST-LAST)", e.r)
}
func (e *rangeError) Unwrap() error { return e.err }

// ParseRange parses "bytes=FROM-TO" (inclusive).
func ParseRange(r string) (from, to int64, err error) {
	rest, ok := strings.CutPrefix(r, "bytes=")
	if !ok {
		return 0, 0, fmt.Errorf("range %q does not start with bytes=", r)
	}
	lo, hi, ok := strings.Cut(rest, "-")
	if !ok || !digits(lo) || !digits(hi) {
		return 0, 0, &rangeError{r: r}
	}
	from, err1 := strconv.ParseInt(lo, 10, 64)
	to, err2 := strconv.ParseInt(hi, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, &rangeError{r: r, err: err}
	}
	if from > to {
		return from, to, &rangeError{r: r, err: errEndBeforeStart}
	}
	return from, to, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Archs lists the architectures the lock covers, in first-seen order: its `archs`, its
// repositories' (all three kinds), its packages'.
func (l *Lock) Archs() []string {
	var out []string
	add := func(a string) {
		if a != "" && !contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range l.Contents.Archs {
		add(a)
	}
	for _, rs := range [][]Repo{l.Contents.Repositories, l.Contents.RuntimeRepositories, l.Contents.BuildRepositories} {
		for _, r := range rs {
			add(r.Architecture)
		}
	}
	for _, p := range l.Contents.Packages {
		add(p.Architecture)
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
