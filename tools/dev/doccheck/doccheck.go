// Package doccheck checks that the generated reference (stardoc's docs/*.md) shows a usage
// example for every public rule, macro, repository rule, module extension and tag class, so
// that one added without an example, or an example that no longer uses what it documents,
// fails a test instead of reaching users.
//
// A stardoc section starts with `<a id="NAME"></a>` and a `## NAME` (or, for a tag class,
// `### NAME`) heading; its description runs to the first bold marker (**ATTRIBUTES**,
// **PARAMETERS**, **TAG CLASSES**, **FIELDS**, **Attributes**). Providers (**FIELDS**) need
// no example. Every other section's description must hold a fenced code block that uses
// what the section documents as a user would: a rule or macro loaded from a rules_wharf
// file (`load("@rules_wharf//oci:defs.bzl", "NAME")`, or another public file exporting
// it; a repository rule may come from `use_repo_rule` instead) and called (`NAME(`); a
// module extension's `use_extension("@rules_wharf//...", "NAME")`; a tag class's call
// (`ext.tag(`, the anchor of its section).
package doccheck

import (
	"fmt"
	"regexp"
	"strings"
)

// Generated is how stardoc output starts; other docs/*.md are written by hand.
const Generated = "<!-- Generated with Stardoc"

// Section is one documented symbol of a stardoc page.
type Section struct {
	Name        string // the anchor: `oci_image`, `oci.pull`
	Kind        string // the marker that ends the description, e.g. "**ATTRIBUTES**"; "" if none
	Description string // from the heading to the marker, the signature included
}

// The markers of a provider's fields and of a module extension's tag classes.
const (
	providerKind  = "**FIELDS**"
	extensionKind = "**TAG CLASSES**"
)

var (
	anchor  = regexp.MustCompile(`^<a id="([^"]+)"></a>$`)
	markers = []string{"**ATTRIBUTES**", "**PARAMETERS**", extensionKind, providerKind, "**Attributes**"}
)

// Sections splits a stardoc page into its documented symbols, in page order.
func Sections(md string) []Section {
	var out []Section
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		m := anchor.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		end := i + 1
		for end < len(lines) && !anchor.MatchString(lines[end]) {
			end++
		}
		out = append(out, section(m[1], strings.Join(lines[i+1:end], "\n")))
		i = end - 1
	}
	return out
}

// section cuts a symbol's text at its first marker.
func section(name, text string) Section {
	s := Section{Name: name, Description: text}
	cut := len(text)
	for _, mk := range markers {
		if at := strings.Index(text, mk); at >= 0 && at < cut {
			cut, s.Kind = at, mk
		}
	}
	s.Description = text[:cut]
	return s
}

// Problems returns, for the page md, the sections that need an example and have none that
// uses them, each naming the section and what its example lacks.
func Problems(md string) []string {
	var out []string
	for _, s := range Sections(md) {
		if s.Kind == providerKind {
			continue
		}
		wants := s.wants()
		if !anyBlockHolds(codeBlocks(s.Description), wants) {
			var what []string
			for _, w := range wants {
				what = append(what, w.what)
			}
			out = append(out, fmt.Sprintf("%s: no fenced code block (```starlark) in its doc with %s",
				s.Name, strings.Join(what, " and ")))
		}
	}
	return out
}

// A want is what an example must hold, as a pattern and as the message says it.
type want struct {
	what string
	re   *regexp.Regexp
}

// wants is what an example of the section must hold: a module extension's use_extension
// call, a tag class's call, a rule's or macro's load from rules_wharf and call.
func (s Section) wants() []want {
	name := regexp.QuoteMeta(s.Name)
	call := want{s.Name + "(", regexp.MustCompile(`(^|[^\w.])` + name + `\(`)}
	switch {
	case s.Kind == extensionKind:
		return []want{{`use_extension("@rules_wharf//...", "` + s.Name + `")`,
			regexp.MustCompile(`use_extension\(\s*"@rules_wharf//[^"]*",\s*"` + name + `"\s*\)`)}}
	case strings.Contains(s.Name, "."):
		return []want{call}
	}
	// A repository rule may be brought in by use_repo_rule (bzlmod) instead of load.
	load := want{`load("@rules_wharf//...", "` + s.Name + `")`,
		regexp.MustCompile(`(load|use_repo_rule)\(\s*"@rules_wharf//[^"]*"[^)]*"` + name + `"`)}
	return []want{load, call}
}

// codeBlocks returns the contents of the fenced (```) code blocks of a markdown text.
func codeBlocks(md string) []string {
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			if in {
				blocks = append(blocks, strings.Join(cur, "\n"))
				cur = nil
			}
			in = !in
			continue
		}
		if in {
			cur = append(cur, line)
		}
	}
	return blocks
}

func anyBlockHolds(blocks []string, wants []want) bool {
	for _, b := range blocks {
		all := true
		for _, w := range wants {
			all = all && w.re.MatchString(b)
		}
		if all {
			return true
		}
	}
	return false
}
