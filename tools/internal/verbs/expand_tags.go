package verbs

import (
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/push"
	"github.com/rules-wharf/rules_wharf/tools/internal/stamp"
)

// expandTagsVerb writes oci_push's tags, one per line: the --tag values, then the lines of
// each --tags-file, with {KEY} placeholders expanded from the --status files when given.
func expandTagsVerb(args []string) error {
	var tags, tagsFiles, status cli.Strings
	var out string
	fs := newFlags("expand-tags")
	fs.Var(&tags, "tag", "a tag (repeatable)")
	fs.Var(&tagsFiles, "tags-file", "a file of tags, one per line (repeatable)")
	fs.Var(&status, "status", "a workspace status file (stable-status.txt, volatile-status.txt; repeatable); given only when stamping")
	fs.StringVar(&out, "out", "", "the tags file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("out", out); err != nil {
		return err
	}
	all := append([]string(nil), tags...)
	for _, f := range tagsFiles {
		t, err := push.ReadTagsFile(f)
		if err != nil {
			return err
		}
		all = append(all, t...)
	}
	var values map[string]string
	if len(status) > 0 {
		var err error
		if values, err = stamp.ReadStatus(status...); err != nil {
			return err
		}
	}
	expanded, err := push.ExpandTags(all, values)
	if err != nil {
		return err
	}
	text := strings.Join(expanded, "\n")
	if text != "" {
		text += "\n"
	}
	return atomicfile.WriteFile(out, []byte(text))
}
