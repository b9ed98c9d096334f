package main

import (
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

// The committed example repository is exactly what this program generates.
// (Runs from this directory under `go test` and in Bazel's runfiles tree alike.)
func TestCommittedFixturesAreCurrent(t *testing.T) {
	files, err := generate(srctree.Path(t, "examples/apk_repo"), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 10 {
		t.Fatalf("generated %d files, want 10", len(files))
	}
	if stale := compare(files); len(stale) > 0 {
		t.Fatalf("stale fixtures (go run ./tools/internal/apk/apktest/fixturegen): %v", stale)
	}
}
