// Package stamp reads Bazel's workspace status files and expands {KEY} placeholders from
// them: oci_push's tags, an image's labels, annotations and created time.
package stamp

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

// placeholder is a workspace status key: {BUILD_EMBED_LABEL}, {STABLE_GIT_COMMIT}.
var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Has reports whether s holds a {KEY} placeholder.
func Has(s string) bool { return placeholder.MatchString(s) }

// Blank replaces every placeholder with r, e.g. to check what is around them.
func Blank(s, r string) string { return placeholder.ReplaceAllLiteralString(s, r) }

// ReadStatus reads Bazel workspace status files (stable-status.txt, volatile-status.txt):
// lines of `KEY VALUE`, the value possibly empty or holding spaces. A key in a later file
// replaces the same key in an earlier one.
func ReadStatus(paths ...string) (map[string]string, error) {
	status := map[string]string{}
	for _, p := range paths {
		if err := readStatusFile(p, status); err != nil {
			return nil, err
		}
	}
	return status, nil
}

func readStatusFile(p string, status map[string]string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("workspace status: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		if l := s.Text(); l != "" {
			k, v, _ := strings.Cut(l, " ")
			status[k] = v
		}
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("workspace status %s: %w", p, err)
	}
	return nil
}

// MissingKeyError is a placeholder whose key the workspace status lacks.
type MissingKeyError struct {
	Key    string
	Status map[string]string
}

func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("the workspace status has no key %s (keys: %s)", e.Key, strings.Join(slices.Sorted(maps.Keys(e.Status)), ", "))
}

// Expand replaces every {KEY} in s by the key's value in status; the first key status
// lacks is a *MissingKeyError.
func Expand(s string, status map[string]string) (string, error) {
	var missing string
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		k := m[1 : len(m)-1]
		v, ok := status[k]
		if !ok && missing == "" {
			missing = k
		}
		return v
	})
	if missing != "" {
		return "", &MissingKeyError{Key: missing, Status: status}
	}
	return out, nil
}
