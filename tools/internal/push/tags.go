package push

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

// tagPattern is the OCI distribution spec's tag grammar.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// placeholder is a workspace status key in a tag: {BUILD_EMBED_LABEL}, {STABLE_GIT_COMMIT}.
var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// CheckTag refuses a tag outside the OCI tag grammar; a tag that still holds a {KEY}
// placeholder gets a hint about stamping.
func CheckTag(tag string) error {
	if tagPattern.MatchString(tag) {
		return nil
	}
	if placeholder.MatchString(tag) {
		return fmt.Errorf("tag %q holds a workspace status placeholder, which is expanded only when stamping: build with --stamp (or stamp = 1 on the oci_push)", tag)
	}
	return fmt.Errorf("tag %q is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})", tag)
}

// ReadTagsFile reads one tag per line; surrounding white space and empty lines are ignored.
func ReadTagsFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tags file: %w", err)
	}
	var tags []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			tags = append(tags, l)
		}
	}
	return tags, nil
}

// ReadStatus reads Bazel workspace status files (stable-status.txt, volatile-status.txt):
// lines of `KEY VALUE`, the value possibly empty or holding spaces. A key in a later file
// replaces the same key in an earlier one.
func ReadStatus(paths ...string) (map[string]string, error) {
	status := map[string]string{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("workspace status: %w", err)
		}
		s := bufio.NewScanner(f)
		s.Buffer(nil, 1<<20)
		for s.Scan() {
			if l := s.Text(); l != "" {
				k, v, _ := strings.Cut(l, " ")
				status[k] = v
			}
		}
		err = s.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("workspace status %s: %w", p, err)
		}
	}
	return status, nil
}

// ExpandTags returns tags in order without repeats, each checked against the tag grammar.
// With status (stamping), every {KEY} is replaced by the key's workspace status value and
// an unknown key is an error naming key and tag; without it (nil), tags are taken as they
// are and one holding a placeholder is kept for push to refuse, so that a build without
// --stamp does not fail on a target that is only pushed with it.
func ExpandTags(tags []string, status map[string]string) ([]string, error) {
	var out []string
	for _, t := range tags {
		tag := t
		if status != nil {
			var missing string
			tag = placeholder.ReplaceAllStringFunc(t, func(m string) string {
				k := m[1 : len(m)-1]
				v, ok := status[k]
				if !ok && missing == "" {
					missing = k
				}
				return v
			})
			if missing != "" {
				return nil, fmt.Errorf("tag %q: the workspace status has no key %s (keys: %s)", t, missing, strings.Join(slices.Sorted(maps.Keys(status)), ", "))
			}
			if err := CheckTag(tag); err != nil {
				return nil, fmt.Errorf("tag %q expands to %q, not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})", t, tag)
			}
		} else if err := CheckTag(placeholder.ReplaceAllString(tag, "x")); err != nil {
			// Placeholders aside, the tag is already bad.
			return nil, fmt.Errorf("tag %q is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})", tag)
		}
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out, nil
}
