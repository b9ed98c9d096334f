package mapcheck

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

// The checkout's Map names every folder under Roots and nothing that is gone. Run by
// `go test ./tools/dev/...` only: a Bazel sandbox holds no checkout to list (tools/dev
// has no BUILD files).
func TestMapMatchesTree(t *testing.T) {
	design := srctree.Path(t, "docs/design.md")
	md, err := os.ReadFile(design)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Check(filepath.Dir(filepath.Dir(design)), string(md))
	if err != nil {
		t.Fatalf("%s: %v", design, err)
	}
	if len(problems) > 0 {
		t.Errorf("docs/design.md's Map of the code does not match the tree (%s):\n  %s",
			"the package doc of tools/dev/mapcheck says how a row names folders", strings.Join(problems, "\n  "))
	}
}

const testMap = "# Design\n\n" + Heading + `

| folder | owns |
|---|---|
| ` + "`apk/`" + ` | rules (` + "`private/rules`" + `), ` + "`lockfile`" + ` |
| ` + "`tools/internal/oci`, `sbom`" + ` | images; ` + "`gone/away`" + ` |
| ` + "`tools/dev/`" + ` | bench (` + "`bench`" + `) |

## Decisions
| ` + "`toolchain/`" + ` | not part of the Map |
`

func TestParseMap(t *testing.T) {
	rows, err := ParseMap(testMap)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Folders: []string{"apk"}, Names: []string{"private/rules", "lockfile"}},
		{Folders: []string{"tools/internal/oci", "tools/internal/sbom"}, Names: []string{"gone/away"}},
		{Folders: []string{"tools/dev"}, Names: []string{"bench"}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows %+v, want %+v", rows, want)
	}
	if _, err := ParseMap("# Design\n\nno map here\n"); err == nil || !strings.Contains(err.Error(), Heading) {
		t.Fatalf("a document without the section gave %v, want an error naming it", err)
	}
}

// Each kind of mismatch is reported; a folder without files (left by a move), testdata,
// the roots themselves, folders outside Roots and a folder a named path goes through
// (apk/private) are not.
func TestCheckReportsEveryMismatch(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{
		"apk/BUILD.bazel", "apk/private/rules/r.bzl", "apk/private/x/lockfile/l.bzl",
		"apk/private/providers/p.bzl", "apk/testdata/t.json", "tools/internal/oci/o.go",
		"tools/dev/bench/gen/main.go", "tools/dev/new/n.go", "docs/other/d.md",
	} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "oci", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	problems, err := Check(dir, testMap)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"apk/private/providers is not named: add it to the row of the folder that holds it",
		"apk/private/x is not named: add it to the row of the folder that holds it",
		"gone/away, named in the row of tools/internal/oci, tools/internal/sbom, is neither below it nor below the repository root",
		"tools/dev/bench/gen is not named: add it to the row of the folder that holds it",
		"tools/dev/new is not named: add it to the row of the folder that holds it",
		"tools/internal/sbom is named in the first column but is not a folder",
	}
	if !reflect.DeepEqual(problems, want) {
		t.Fatalf("problems:\n  %s\nwant:\n  %s", strings.Join(problems, "\n  "), strings.Join(want, "\n  "))
	}
}
