package push

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/stamp"
)

// tagPattern is the OCI distribution spec's tag grammar.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// CheckTag refuses a tag outside the OCI tag grammar; a tag that still holds a {KEY}
// placeholder gets a hint about stamping.
func CheckTag(tag string) error {
	if tagPattern.MatchString(tag) {
		return nil
	}
	if stamp.Has(tag) {
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
			var err error
			if tag, err = stamp.Expand(t, status); err != nil {
				return nil, fmt.Errorf("tag %q: %w", t, err)
			}
			if err := CheckTag(tag); err != nil {
				return nil, fmt.Errorf("tag %q expands to %q, not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})", t, tag)
			}
		} else if err := CheckTag(stamp.Blank(tag, "x")); err != nil {
			// Placeholders aside, the tag is already bad.
			return nil, fmt.Errorf("tag %q is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})", tag)
		}
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out, nil
}
