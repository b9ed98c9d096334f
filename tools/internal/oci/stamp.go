package oci

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/stamp"
)

// ReadKeyValues reads a labels or annotations file: KEY=VALUE lines (the value may hold
// '='); blank lines and lines starting with '#' are skipped.
func ReadKeyValues(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for n := 1; s.Scan(); n++ {
		l := strings.TrimSpace(s.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%s:%d: %q is not KEY=VALUE", path, n, l)
		}
		out[strings.TrimSpace(k)] = v
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Stamp expands {KEY} placeholders in the labels, annotations and created time from the
// workspace status. Without status (nil: not stamping) labels and annotations keep their
// placeholders as written, so an unstamped build's digest does not depend on the status,
// and a created time holding one is the default (the epoch). A created time that expands
// to whole seconds ({BUILD_TIMESTAMP}) becomes RFC 3339.
func (s *SpecFile) Stamp(status map[string]string) error {
	if status == nil {
		if stamp.Has(s.Created) {
			s.Created = ""
		}
		return nil
	}
	for _, m := range []struct {
		what string
		kv   map[string]string
	}{{"label", s.Labels}, {"annotation", s.Annotations}} {
		for _, k := range SortedKeys(m.kv) {
			v, err := stamp.Expand(m.kv[k], status)
			if err != nil {
				return fmt.Errorf("%s %s = %q: %w", m.what, k, m.kv[k], err)
			}
			m.kv[k] = v
		}
	}
	created, err := stamp.Expand(s.Created, status)
	if err != nil {
		return fmt.Errorf("created %q: %w", s.Created, err)
	}
	if secs, err := strconv.ParseInt(created, 10, 64); err == nil {
		created = time.Unix(secs, 0).UTC().Format(time.RFC3339)
	}
	s.Created = created
	return nil
}
