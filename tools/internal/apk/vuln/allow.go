package vuln

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Allow is one allow list entry: a vulnerability accepted, for one package or all, with the
// reason, until an optional expiry date (YYYY-MM-DD, inclusive).
type Allow struct {
	ID      string `json:"id"`
	Package string `json:"package,omitempty"`
	Reason  string `json:"reason"`
	Expires string `json:"expires,omitempty"`
}

// name says which entry in messages.
func (a Allow) name(i int) string {
	s := fmt.Sprintf("entry %d (%s", i+1, a.ID)
	if a.Package != "" {
		s += " in " + a.Package
	}
	return s + ")"
}

// ReadAllowList reads an allow list file: {"allow": [Allow, ...]}.
func ReadAllowList(path string) ([]Allow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("allow list: %w", err)
	}
	list, err := ParseAllowList(b)
	if err != nil {
		return nil, fmt.Errorf("allow list %s: %w", path, err)
	}
	return list, nil
}

// ParseAllowList parses and checks an allow list: every entry needs an id and a reason, and
// an expiry is a date.
func ParseAllowList(b []byte) ([]Allow, error) {
	var f struct {
		Allow []Allow `json:"allow"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf(`want {"allow": [{"id": ..., "package": ..., "reason": ..., "expires": "YYYY-MM-DD"}]}: %w`, err)
	}
	for i, a := range f.Allow {
		switch {
		case a.ID == "":
			return nil, fmt.Errorf("%s: no id (the CVE or advisory ID it accepts)", a.name(i))
		case a.Reason == "":
			return nil, fmt.Errorf("%s: no reason; say why the vulnerability is accepted", a.name(i))
		}
		if a.Expires != "" {
			if _, err := time.Parse(time.DateOnly, a.Expires); err != nil {
				return nil, fmt.Errorf("%s: expires %q is not a date (YYYY-MM-DD)", a.name(i), a.Expires)
			}
		}
	}
	return f.Allow, nil
}

// expired reports whether the entry no longer allows on today (YYYY-MM-DD): it allows
// through its expiry date.
func (a Allow) expired(today string) bool {
	return a.Expires != "" && a.Expires < today
}
