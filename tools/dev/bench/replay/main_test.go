package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReplayCopiesOutputsNotInputs(t *testing.T) {
	stash := t.TempDir()
	exec := t.TempDir()
	t.Chdir(exec)
	write(t, filepath.Join(stash, "bazel-out/bin/in.json"), "stashed input")
	write(t, filepath.Join(stash, "bazel-out/bin/out.json"), "recorded output")
	write(t, filepath.Join(stash, "bazel-out/bin/meta.json"), "recorded metadata")
	write(t, "bazel-out/bin/in.json", "the input")
	if err := os.MkdirAll("bazel-out/bin", 0o755); err != nil {
		t.Fatal(err)
	}
	err := replay(stash, []string{"verb", "--package", "bazel-out/bin/in.json", "--blob", "bazel-out/bin/out.json",
		"--metadata=bazel-out/bin/meta.json", "--other", "bazel-out/bin/not-stashed.json"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"bazel-out/bin/in.json":   "the input",
		"bazel-out/bin/out.json":  "recorded output",
		"bazel-out/bin/meta.json": "recorded metadata",
	} {
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := os.Stat("bazel-out/bin/not-stashed.json"); err == nil {
		t.Error("a path not in the stash was written")
	}
}

func TestReplayNoOutputIsAnError(t *testing.T) {
	stash := t.TempDir()
	t.Chdir(t.TempDir())
	err := replay(stash, []string{"image", "--manifest", "bazel-out/bin/image.manifest.json"})
	if err == nil || !strings.Contains(err.Error(), "no output of") || !strings.Contains(err.Error(), stash) {
		t.Fatalf("err = %v, want one naming the stash", err)
	}
}
