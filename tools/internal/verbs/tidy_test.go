package verbs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTidyVerb: under `bazel run` the verb tidies $BUILD_WORKSPACE_DIRECTORY's MODULE.bazel
// and says what it changed; --check then passes; outside `bazel run` without --workspace
// it says how to run it.
func TestTidyVerb(t *testing.T) {
	ws := t.TempDir()
	os.MkdirAll(filepath.Join(ws, "app"), 0o755)
	os.WriteFile(filepath.Join(ws, "MODULE.bazel"), []byte("module(name = \"m\")\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "app", "BUILD.bazel"), nil, 0o644)
	os.WriteFile(filepath.Join(ws, "app", "apko.lock.json"), []byte("{}"), 0o644)
	t.Setenv("BUILD_WORKSPACE_DIRECTORY", ws)
	var log bytes.Buffer
	if err := tidyVerb(nil, &log); err != nil {
		t.Fatal(err)
	}
	want := `MODULE.bazel: added apk.translate_lock(name = "apko_app", lock = "//app:apko.lock.json") and use_repo "apko_app": app/apko.lock.json had none`
	if strings.TrimSpace(log.String()) != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
	log.Reset()
	if err := tidyVerb([]string{"--check", "--workspace", ws}, &log); err != nil || !strings.Contains(log.String(), "in step with the 1 apko.lock.json files") {
		t.Errorf("--check: %v, %q", err, log.String())
	}
	t.Setenv("BUILD_WORKSPACE_DIRECTORY", "")
	err := tidyVerb(nil, &log)
	if err == nil || err.Error() != "no workspace: run it with `bazel run` (which sets $BUILD_WORKSPACE_DIRECTORY) or give --workspace" {
		t.Errorf("without a workspace: %v", err)
	}
}
