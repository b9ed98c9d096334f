package doccheck

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

// Every generated page of docs/ shows an example for each rule, macro, extension and tag
// class. Run by `go test ./tools/dev/...` only: a Bazel sandbox holds no checkout (tools/dev
// has no BUILD files).
func TestGeneratedDocsHaveExamples(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(srctree.Path(t, "docs"), "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	generated := 0
	for _, page := range pages {
		md, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(md), Generated) {
			continue
		}
		generated++
		for _, p := range Problems(string(md)) {
			t.Errorf("docs/%s: %s: give it a usage example in its .bzl doc (`_DOC`, the macro's docstring or the extension's doc) and run `tools/bazel run //docs:update`",
				filepath.Base(page), p)
		}
	}
	if generated == 0 {
		t.Fatalf("no stardoc page among %d docs/*.md", len(pages))
	}
}

const testPage = Generated + ` http://skydoc.bazel.build -->

<a id="good_rule"></a>

## good_rule

<pre>
load("@rules_wharf//oci:defs.bzl", "good_rule")

good_rule(<a href="#good_rule-name">name</a>)
</pre>

Does things.

` + "```starlark" + `
load("@rules_wharf//oci:defs.bzl", "good_rule")

good_rule(name = "x")
` + "```" + `

**ATTRIBUTES**

| <a id="good_rule-name"></a>name | A unique name. |

<a id="bare_macro"></a>

## bare_macro

<pre>
load("@rules_wharf//oci:defs.bzl", "bare_macro")

bare_macro(<a href="#bare_macro-name">name</a>)
</pre>

No example here; the ` + "```starlark" + ` below is a parameter's.

**PARAMETERS**

` + "```starlark\nbare_macro(name = \"x\")\n```" + `

<a id="wrong_load"></a>

## wrong_load

<pre>
load("@rules_wharf//apk:defs.bzl", "wrong_load")
</pre>

` + "```starlark\nload(\"//apk/private:x.bzl\", \"wrong_load\")\n\nwrong_load(name = \"x\")\n```" + `

**ATTRIBUTES**

<a id="part"></a>

## part

` + "```starlark\nload(\"@rules_wharf//apk:defs.bzl\", \"part\", \"whole_part\")\n\nwhole_part(name = \"x\")\n```" + `

**ATTRIBUTES**

<a id="repo_rule"></a>

## repo_rule

` + "```starlark\nrepo_rule = use_repo_rule(\"@rules_wharf//apk:repositories.bzl\", \"repo_rule\")\n\nrepo_rule(name = \"x\")\n```" + `

**ATTRIBUTES**

<a id="SomeInfo"></a>

## SomeInfo

A provider, without an example.

**FIELDS**

<a id="ext"></a>

## ext

<pre>
ext = use_extension("@rules_wharf//apk:extensions.bzl", "ext")
ext.tag(<a href="#ext.tag-name">name</a>)
</pre>

` + "```starlark\next = use_extension(\"@rules_wharf//apk:extensions.bzl\", \"ext\")\n```" + `

**TAG CLASSES**

<a id="ext.tag"></a>

### tag

A tag class whose example calls another tag.

` + "```starlark\next.other(name = \"x\")\n```" + `

**Attributes**
`

func TestSections(t *testing.T) {
	var got [][2]string
	for _, s := range Sections(testPage) {
		got = append(got, [2]string{s.Name, s.Kind})
	}
	want := [][2]string{
		{"good_rule", "**ATTRIBUTES**"}, {"bare_macro", "**PARAMETERS**"}, {"wrong_load", "**ATTRIBUTES**"},
		{"part", "**ATTRIBUTES**"}, {"repo_rule", "**ATTRIBUTES**"}, {"SomeInfo", "**FIELDS**"}, {"ext", "**TAG CLASSES**"}, {"ext.tag", "**Attributes**"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sections %v, want %v", got, want)
	}
}

// A section is reported when it has no block, when its block is not in its description,
// when the block does not load it from rules_wharf, when the block calls only a longer
// name, and when a tag class's block does not call it; the provider is not.
func TestProblems(t *testing.T) {
	want := []string{
		"bare_macro: no fenced code block (```starlark) in its doc with load(\"@rules_wharf//...\", \"bare_macro\") and bare_macro(",
		"wrong_load: no fenced code block (```starlark) in its doc with load(\"@rules_wharf//...\", \"wrong_load\") and wrong_load(",
		"part: no fenced code block (```starlark) in its doc with load(\"@rules_wharf//...\", \"part\") and part(",
		"ext.tag: no fenced code block (```starlark) in its doc with ext.tag(",
	}
	if got := Problems(testPage); !reflect.DeepEqual(got, want) {
		t.Fatalf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
