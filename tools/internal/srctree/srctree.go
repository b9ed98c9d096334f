// Package srctree finds files of the rules_wharf repository for tests, under `go test` and
// under `bazel test` alike: the Go sources are the Bazel module rules_wharf_tools (tools/),
// the example lock and packages belong to rules_wharf (the repository root).
package srctree

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns where the rules_wharf file rel (slash-separated, from the repository root)
// is. Under `go test` that is below the repository root, found upward from the working
// directory as the directory holding tools/MODULE.bazel (a go.mod marks no root: tools/ and
// tools/dev are Go modules of their own). Under `bazel test` it is the test's data in the
// runfiles tree, where rules_wharf's repository is _main when it is the root module and
// rules_wharf~ otherwise.
func Path(t testing.TB, rel string) string {
	t.Helper()
	if runfiles := os.Getenv("TEST_SRCDIR"); runfiles != "" {
		for _, repo := range []string{"_main", "rules_wharf~"} {
			p := filepath.Join(runfiles, repo, filepath.FromSlash(rel))
			if _, err := os.Lstat(p); err == nil {
				return p
			}
		}
		t.Fatalf("%s is not in the runfiles tree %s: add it to the test's data", rel, runfiles)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "tools", "MODULE.bazel")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(rel))
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("no tools/MODULE.bazel in %s or above it: not in a rules_wharf checkout", wd)
		}
	}
}
