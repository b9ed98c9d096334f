package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/redact"
)

// Every field some apko release writes (docs/apk.md has the table), plus `archs`; anything
// else is a typo or a lock from a tool we do not know, and is rejected by name.
var (
	knownTop      = []string{"version", "config", "contents"}
	knownConfig   = []string{"name", "checksum"}
	knownContents = []string{"keyring", "build_repositories", "runtime_repositories", "repositories", "packages", "archs"}
	knownKeyring  = []string{"name", "url", "content"}
	knownRepo     = []string{"name", "url", "architecture"}
	knownPackage  = []string{"name", "url", "version", "architecture", "signature", "control", "data", "checksum"}
	knownRange    = []string{"range", "checksum"}
)

// Parse reads and checks a lock. Its messages name the entry and the field
// (`package glibc (packages[0]): control: checksum "md5-x" is not sha1-…`), mask URL
// userinfo, and are apk/private/lock.bzl's, word for word.
func Parse(b []byte) (*Lock, error) {
	l, err := parse(b)
	return l, redact.Error(err)
}

func parse(b []byte) (*Lock, error) {
	top, err := topLevel(b)
	if err != nil {
		return nil, err
	}
	l := &Lock{}
	if l.Version, err = str(top, "version", "top level", false); err != nil {
		return nil, err
	}
	if l.Version != "" && l.Version != "v1" {
		return nil, fmt.Errorf("unsupported lock version %q (this rules_wharf reads v1)", l.Version)
	}
	l.Version = "v1"
	if l.Config, err = parseConfig(top); err != nil {
		return nil, err
	}
	raw, ok := top["contents"]
	if !ok || isNull(raw) {
		return nil, errors.New("has no contents object")
	}
	contents, err := object(raw, "contents", knownContents)
	if err != nil {
		return nil, err
	}
	if err := parseContents(contents, &l.Contents); err != nil {
		return nil, err
	}
	return l, nil
}

// topLevel decodes the lock's top-level object.
func topLevel(b []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("the file is empty")
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
			return nil, fmt.Errorf("not valid JSON: line %d (byte %d): %w", line, se.Offset, err)
		}
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, ok := x.(map[string]any); !ok {
		return nil, fmt.Errorf("the top level must be an object, got %s", kind(b))
	}
	return object(b, "top level", knownTop)
}

func parseConfig(top map[string]json.RawMessage) (*Config, error) {
	raw, ok := top["config"]
	if !ok || isNull(raw) {
		return nil, nil
	}
	m, err := object(raw, "config", knownConfig)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	if c.Name, err = str(m, "name", "config", false); err != nil {
		return nil, err
	}
	if c.Checksum, err = str(m, "checksum", "config", false); err != nil {
		return nil, err
	}
	return c, nil
}

func parseContents(contents map[string]json.RawMessage, c *Contents) error {
	var err error
	if c.Keyring, err = parseKeyring(contents); err != nil {
		return err
	}
	for _, k := range []struct {
		key string
		dst *[]Repo
	}{{"repositories", &c.Repositories}, {"runtime_repositories", &c.RuntimeRepositories}, {"build_repositories", &c.BuildRepositories}} {
		if *k.dst, err = parseRepos(contents, k.key); err != nil {
			return err
		}
	}
	if c.Packages, err = parsePackages(contents); err != nil {
		return err
	}
	c.Archs, err = parseArchs(contents)
	return err
}

func parseArchs(contents map[string]json.RawMessage) ([]string, error) {
	items, err := list(contents, "archs", "contents")
	if err != nil {
		return nil, err
	}
	var out []string
	for i, raw := range items {
		var a string
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("contents: archs[%d] must be a string, got %s", i, kind(raw))
		}
		if a == "" {
			return nil, fmt.Errorf("contents: archs[%d] is empty", i)
		}
		out = append(out, a)
	}
	return out, nil
}

// object decodes raw as a JSON object and rejects keys outside known.
func object(raw json.RawMessage, where string, known []string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &m) != nil {
		return nil, fmt.Errorf("%s must be an object, got %s", where, kind(raw))
	}
	var unknown []string
	for k := range m {
		if !contains(known, k) {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s: unknown field %s (apko writes: %s)", where, strings.Join(unknown, ", "), strings.Join(known, ", "))
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
		return nil, fmt.Errorf("%s: %q must be a list, got %s", where, key, kind(raw))
	}
	return l, nil
}

// str decodes an optional string field (absent or null is ""; an error when required).
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
		return "", fmt.Errorf("%s: %q must be a string, got %s", where, key, kind(raw))
	}
	if required && s == "" {
		return "", fmt.Errorf("%s: %q is empty", where, key)
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// kind names a JSON value's type as lock.bzl's _kind does.
func kind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// redactLocation masks the userinfo of a URL, or of a name without scheme
// (`user:password@host/path`, as apko names repositories and keys).
func redactLocation(loc string) string {
	if strings.Contains(loc, "://") {
		return redact.Text(loc)
	}
	return strings.TrimPrefix(redact.Text("://"+loc), "://")
}
