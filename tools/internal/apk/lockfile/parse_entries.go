package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

func parseKeyring(contents map[string]json.RawMessage) ([]Keyring, error) {
	items, err := list(contents, "keyring", "contents")
	if err != nil {
		return nil, err
	}
	var out []Keyring
	seen := map[string]Keyring{}
	for i, raw := range items {
		k, where, err := parseKey(raw, i)
		if err != nil {
			return nil, err
		}
		// Signatures name the key file: two different keys of one name cannot both be meant.
		name := KeyName(k)
		if prev, ok := seen[name]; ok && (prev.URL != k.URL || prev.Content != k.Content) {
			other := prev.URL
			if other == "" {
				other = "embedded"
			}
			return nil, fmt.Errorf("%s: another entry, %s, is also named %s: signatures could not tell them apart", where, redactLocation(other), name)
		}
		seen[name] = k
		out = append(out, k)
	}
	return out, nil
}

// parseKey reads keyring[i]; where names it in messages.
func parseKey(raw json.RawMessage, i int) (k Keyring, where string, err error) {
	where = fmt.Sprintf("keyring[%d]", i)
	m, err := object(raw, where, knownKeyring)
	if err != nil {
		return k, where, err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"name", &k.Name}, {"url", &k.URL}, {"content", &k.Content}} {
		if *f.dst, err = str(m, f.key, where, false); err != nil {
			return k, where, err
		}
	}
	shown := k.Name
	if shown == "" {
		shown = k.URL
	}
	if shown == "" {
		shown = "no name"
	}
	where = fmt.Sprintf("%s (%s)", where, redactLocation(shown))
	if k.URL == "" && k.Content == "" {
		return k, where, fmt.Errorf("%s has neither url nor content", where)
	}
	if n := KeyName(k); n == "" || n == "." || n == ".." {
		return k, where, fmt.Errorf("%s has no usable key file name", where)
	}
	return k, where, nil
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
		where = fmt.Sprintf("%s (%s)", where, redactLocation(r.Name))
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

func parsePackages(contents map[string]json.RawMessage) ([]Package, error) {
	items, err := list(contents, "packages", "contents")
	if err != nil {
		return nil, err
	}
	var out []Package
	seen := map[[2]string]int{}
	for i, raw := range items {
		where := packageWhere(raw, i)
		p, err := parsePackage(raw, where)
		if err != nil {
			return nil, err
		}
		key := [2]string{p.Name, p.Architecture}
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s: %s for %s is listed twice (first as packages[%d])", where, p.Name, p.Architecture, j)
		}
		seen[key] = i
		out = append(out, p)
	}
	return out, nil
}

// packageWhere names packages[i] in messages, by its name when it has one.
func packageWhere(raw json.RawMessage, i int) string {
	var probe struct {
		Name any `json:"name"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) && json.Unmarshal(raw, &probe) == nil {
		if n, ok := probe.Name.(string); ok && n != "" {
			return fmt.Sprintf("package %s (packages[%d])", n, i)
		}
	}
	return fmt.Sprintf("packages[%d]", i)
}

// parsePackage checks one entry in lock.bzl's order, so that both name the same first fault.
func parsePackage(raw json.RawMessage, where string) (Package, error) {
	var p Package
	m, err := object(raw, where, knownPackage)
	if err != nil {
		return p, err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"name", &p.Name}, {"version", &p.Version}, {"architecture", &p.Architecture}, {"url", &p.URL}} {
		if *f.dst, err = str(m, f.key, where, true); err != nil {
			return p, err
		}
	}
	for _, f := range []struct{ key, val string }{{"name", p.Name}, {"version", p.Version}, {"architecture", p.Architecture}} {
		if why := badName(f.val); why != "" {
			return p, fmt.Errorf("%s: %s %q is not usable: %s", where, f.key, f.val, why)
		}
	}
	if p.Checksum, err = str(m, "checksum", where, false); err != nil {
		return p, err
	}
	for _, s := range []struct {
		key, prefix string
		dst         *Range
	}{{"signature", "sha1-", &p.Signature}, {"control", "sha1-", &p.Control}, {"data", "sha256-", &p.Data}} {
		if *s.dst, err = parseSection(m, s.key, where, s.prefix); err != nil {
			return p, err
		}
	}
	return p, checkChecksums(&p, where)
}

// checkChecksums: the package checksum is Q1 + the control member's sha1, as in APKINDEX,
// and something must pin the package.
func checkChecksums(p *Package, where string) error {
	if p.Checksum != "" && !strings.HasPrefix(p.Checksum, "Q1") {
		return fmt.Errorf("%s: checksum %q is not Q1…", where, p.Checksum)
	}
	if p.Checksum != "" && p.Control.Checksum != "" && p.Checksum[2:] != strings.TrimPrefix(p.Control.Checksum, "sha1-") {
		return fmt.Errorf("%s: checksum %q and control checksum %q disagree: they are the same sha1 of the control member", where, p.Checksum, p.Control.Checksum)
	}
	if p.Record().ControlChecksum == "" && p.Data.Checksum == "" {
		return fmt.Errorf("%s: no control or data checksum: nothing would pin this package", where)
	}
	return nil
}

// parseSection reads a package's signature, control or data section (absent or null: none).
func parseSection(m map[string]json.RawMessage, key, where, prefix string) (Range, error) {
	var r Range
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return r, nil
	}
	w := where + ": " + key
	sm, err := object(raw, w, knownRange)
	if err != nil {
		return r, err
	}
	if r.Range, err = str(sm, "range", w, false); err != nil {
		return r, err
	}
	if r.Checksum, err = str(sm, "checksum", w, false); err != nil {
		return r, err
	}
	if r.Range != "" {
		// apko 0.13 to 0.16 wrote the installed size as the data range's end; the data
		// member runs to the end of the file, and is fetched so.
		if _, _, err := ParseRange(r.Range); err != nil && !(key == "data" && errors.Is(err, errEndBeforeStart)) {
			return r, fmt.Errorf("%s: %w", w, err)
		}
	}
	if r.Checksum != "" && !strings.HasPrefix(r.Checksum, prefix) {
		return r, fmt.Errorf("%s: checksum %q is not %s…", w, r.Checksum, prefix)
	}
	if r.Range != "" && r.Checksum == "" {
		return r, fmt.Errorf("%s: has a range but no checksum: nothing would pin those bytes", w)
	}
	return r, nil
}
