// Package lockfile reads and writes apko lock files (apko.lock.json).
//
// Parse accepts every shape apko has written (version v1, with or without `config`,
// packages with or without `checksum` (before apko 0.13), keyrings by `url` or embedded
// `content`, with or without build/runtime repositories) and checks each entry as
// apk/private/lock.bzl does, naming the entry in errors. Marshal writes the shape current
// apko writes, byte for byte: its field order, two-space indent, trailing newline.
package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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

// Package is one locked package.
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

var (
	knownTop      = []string{"version", "config", "contents"}
	knownConfig   = []string{"name", "checksum"}
	knownContents = []string{"keyring", "build_repositories", "runtime_repositories", "repositories", "packages", "archs"}
	knownKeyring  = []string{"name", "url", "content"}
	knownRepo     = []string{"name", "url", "architecture"}
	knownPackage  = []string{"name", "url", "version", "architecture", "signature", "control", "data", "checksum"}
	knownRange    = []string{"range", "checksum"}
)

// object decodes raw as a JSON object and rejects keys outside known.
func object(raw json.RawMessage, where string, known []string) (map[string]json.RawMessage, error) {
	if isNull(raw) {
		return nil, fmt.Errorf("%s must be an object, got null", where)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s must be an object (%s)", where, jsonKind(raw))
	}
	var unknown []string
	for k := range m {
		if !contains(known, k) {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s: unknown field %s (known: %s)", where, strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return m, nil
}

// list decodes an optional JSON array (absent or null is empty).
func list(m map[string]json.RawMessage, key, where string) ([]json.RawMessage, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("%s.%s must be a list (%s)", where, key, jsonKind(raw))
	}
	return l, nil
}

// str decodes an optional string field (absent or null is "").
func str(m map[string]json.RawMessage, key, where string, required bool) (string, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		if required {
			return "", fmt.Errorf("%s has no %q", where, key)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: %q must be a string (%s)", where, key, jsonKind(raw))
	}
	if required && s == "" {
		return "", fmt.Errorf("%s: %q is empty", where, key)
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "got an object"
	case '[':
		return "got a list"
	case '"':
		return "got a string"
	case 't', 'f':
		return "got a boolean"
	case 'n':
		return "got null"
	}
	return "got a number"
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Parse reads and checks a lock. Errors name the entry (packages[3] wharf-motd ...).
func Parse(b []byte) (*Lock, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("lock is empty")
	}
	if !json.Valid(b) {
		var x any
		err := json.Unmarshal(b, &x)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
			return nil, fmt.Errorf("lock is not valid JSON: line %d (byte %d): %v", line, se.Offset, err)
		}
		return nil, fmt.Errorf("lock is not valid JSON: %v", err)
	}
	top, err := object(b, "lock", knownTop)
	if err != nil {
		return nil, err
	}
	l := &Lock{}
	if l.Version, err = str(top, "version", "lock", false); err != nil {
		return nil, err
	}
	if l.Version == "" {
		l.Version = "v1"
	}
	if l.Version != "v1" {
		return nil, fmt.Errorf("lock: unsupported version %q (want v1)", l.Version)
	}
	if raw, ok := top["config"]; ok && !isNull(raw) {
		m, err := object(raw, "lock.config", knownConfig)
		if err != nil {
			return nil, err
		}
		c := &Config{}
		if c.Name, err = str(m, "name", "lock.config", false); err != nil {
			return nil, err
		}
		if c.Checksum, err = str(m, "checksum", "lock.config", false); err != nil {
			return nil, err
		}
		if c.Checksum != "" && !strings.HasPrefix(c.Checksum, "sha256-") {
			return nil, fmt.Errorf("lock.config: checksum %q is not sha256-…", c.Checksum)
		}
		l.Config = c
	}
	rawContents, ok := top["contents"]
	if !ok {
		return nil, errors.New("lock has no contents object")
	}
	contents, err := object(rawContents, "lock.contents", knownContents)
	if err != nil {
		return nil, err
	}
	if err := parseKeyring(contents, &l.Contents); err != nil {
		return nil, err
	}
	for _, k := range []struct {
		key string
		dst *[]Repo
	}{{"build_repositories", &l.Contents.BuildRepositories}, {"runtime_repositories", &l.Contents.RuntimeRepositories}, {"repositories", &l.Contents.Repositories}} {
		if *k.dst, err = parseRepos(contents, k.key); err != nil {
			return nil, err
		}
	}
	if l.Contents.Packages, err = parsePackages(contents); err != nil {
		return nil, err
	}
	return l, nil
}

func parseKeyring(contents map[string]json.RawMessage, c *Contents) error {
	items, err := list(contents, "keyring", "contents")
	if err != nil {
		return err
	}
	for i, raw := range items {
		where := fmt.Sprintf("keyring[%d]", i)
		m, err := object(raw, where, knownKeyring)
		if err != nil {
			return err
		}
		var k Keyring
		if k.Name, err = str(m, "name", where, false); err != nil {
			return err
		}
		if k.URL, err = str(m, "url", where, false); err != nil {
			return err
		}
		if k.Content, err = str(m, "content", where, false); err != nil {
			return err
		}
		if k.URL == "" && k.Content == "" {
			return fmt.Errorf("%s (%s) has neither url nor content", where, k.Name)
		}
		if KeyName(k) == "" {
			return fmt.Errorf("%s has no usable key file name", where)
		}
		c.Keyring = append(c.Keyring, k)
	}
	return nil
}

// KeyName is the key's file name, the name signatures refer to (.SIGN.RSA.<name>).
func KeyName(k Keyring) string {
	base := func(u string) string {
		u = strings.TrimRight(u, "/")
		return u[strings.LastIndex(u, "/")+1:]
	}
	// Signatures name the key file; a URL escapes it (Alpine's %40 is @).
	name := base(k.Name)
	if k.URL != "" {
		name = base(k.URL)
	}
	if u, err := url.PathUnescape(name); err == nil {
		return u
	}
	return name
}

func parseRepos(contents map[string]json.RawMessage, key string) ([]Repo, error) {
	items, err := list(contents, key, "contents")
	if err != nil {
		return nil, err
	}
	var out []Repo
	for i, raw := range items {
		where := fmt.Sprintf("%s[%d]", key, i)
		m, err := object(raw, where, knownRepo)
		if err != nil {
			return nil, err
		}
		var r Repo
		if r.Name, err = str(m, "name", where, true); err != nil {
			return nil, err
		}
		if r.URL, err = str(m, "url", where, false); err != nil {
			return nil, err
		}
		if r.Architecture, err = str(m, "architecture", where, false); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
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

func parsePackages(contents map[string]json.RawMessage) ([]Package, error) {
	items, err := list(contents, "packages", "contents")
	if err != nil {
		return nil, err
	}
	var out []Package
	seen := map[[2]string]int{}
	for i, raw := range items {
		where := fmt.Sprintf("packages[%d]", i)
		if isNull(raw) || bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			var probe map[string]json.RawMessage
			if json.Unmarshal(raw, &probe) == nil {
				if n, err := str(probe, "name", where, false); err == nil && n != "" {
					where = fmt.Sprintf("package %s (packages[%d])", n, i)
				}
			}
		}
		m, err := object(raw, where, knownPackage)
		if err != nil {
			return nil, err
		}
		var p Package
		for _, f := range []struct {
			key string
			dst *string
		}{{"name", &p.Name}, {"version", &p.Version}, {"architecture", &p.Architecture}, {"url", &p.URL}} {
			if *f.dst, err = str(m, f.key, where, true); err != nil {
				return nil, err
			}
		}
		for _, f := range []struct{ key, val string }{{"name", p.Name}, {"version", p.Version}, {"architecture", p.Architecture}} {
			if why := badName(f.val); why != "" {
				return nil, fmt.Errorf("%s: %s %q is not usable: %s", where, f.key, f.val, why)
			}
		}
		if p.Checksum, err = str(m, "checksum", where, false); err != nil {
			return nil, err
		}
		if p.Checksum != "" && !strings.HasPrefix(p.Checksum, "Q1") {
			return nil, fmt.Errorf("%s: checksum %q is not Q1…", where, p.Checksum)
		}
		for _, s := range []struct {
			key, prefix string
			dst         *Range
		}{{"signature", "sha1-", &p.Signature}, {"control", "sha1-", &p.Control}, {"data", "sha256-", &p.Data}} {
			raw, ok := m[s.key]
			if !ok || isNull(raw) {
				continue
			}
			sw := where + "." + s.key
			sm, err := object(raw, sw, knownRange)
			if err != nil {
				return nil, err
			}
			if s.dst.Range, err = str(sm, "range", sw, false); err != nil {
				return nil, err
			}
			if s.dst.Checksum, err = str(sm, "checksum", sw, false); err != nil {
				return nil, err
			}
			if s.dst.Range != "" {
				// apko 0.13 to 0.16 wrote the installed size as the data range's end; the
				// data member runs to the end of the file, and is fetched so.
				if _, _, err := ParseRange(s.dst.Range); err != nil && !(s.key == "data" && errors.Is(err, errEndBeforeStart)) {
					return nil, fmt.Errorf("%s: %w", sw, err)
				}
			}
			if s.dst.Checksum != "" && !strings.HasPrefix(s.dst.Checksum, s.prefix) {
				return nil, fmt.Errorf("%s: checksum %q is not %s…", sw, s.dst.Checksum, s.prefix)
			}
		}
		if p.Checksum != "" && p.Control.Checksum != "" && p.Checksum[2:] != strings.TrimPrefix(p.Control.Checksum, "sha1-") {
			return nil, fmt.Errorf("%s: checksum %q and control checksum %q disagree: they are the same sha1 of the control member", where, p.Checksum, p.Control.Checksum)
		}
		if p.Control.Checksum == "" && p.Data.Checksum == "" {
			return nil, fmt.Errorf("%s: no control or data checksum: nothing would pin this package", where)
		}
		key := [2]string{p.Name, p.Architecture}
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s: %s for %s is listed twice (also packages[%d])", where, p.Name, p.Architecture, j)
		}
		seen[key] = i
		out = append(out, p)
	}
	return out, nil
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

// ParseRange parses "bytes=FROM-TO" (inclusive).
func ParseRange(r string) (from, to int64, err error) {
	rest, ok := strings.CutPrefix(r, "bytes=")
	if !ok {
		return 0, 0, fmt.Errorf("range %q does not start with bytes=", r)
	}
	lo, hi, ok := strings.Cut(rest, "-")
	digits := func(s string) bool {
		if s == "" {
			return false
		}
		for _, c := range s {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if !ok || !digits(lo) || !digits(hi) {
		return 0, 0, fmt.Errorf("malformed range %q", r)
	}
	from, err1 := strconv.ParseInt(lo, 10, 64)
	to, err2 := strconv.ParseInt(hi, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("malformed range %q", r)
	}
	if from > to {
		return from, to, fmt.Errorf("malformed range %q: %w", r, errEndBeforeStart)
	}
	return from, to, nil
}

// Archs lists the architectures the lock covers, in first-seen order (repositories, then
// packages).
func (l *Lock) Archs() []string {
	var out []string
	add := func(a string) {
		if a != "" && !contains(out, a) {
			out = append(out, a)
		}
	}
	for _, r := range l.Contents.Repositories {
		add(r.Architecture)
	}
	for _, p := range l.Contents.Packages {
		add(p.Architecture)
	}
	return out
}
