//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadIntoPodman builds the :load target, runs its launcher (as `bazel run` would, but on
// this host, where podman is) and runs the loaded image with podman.
func TestLoadIntoPodman(t *testing.T) {
	root := repoRoot(t)
	podman := tool(t, "podman")
	run(t, root, nil, filepath.Join(root, "tools", "bazel"), "build", "//examples/hello_image:load")
	store := t.TempDir()
	// A private store, vfs (no mounts left behind), never a registry.
	global := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
		"--storage-driver=vfs", "--cgroup-manager=cgroupfs", "--events-backend=file"}
	out := run(t, "/", nil, filepath.Join(root, "bazel-bin", "examples", "hello_image", "load.sh"), global...)
	if !strings.Contains(out, "rules-wharf/hello:latest") {
		t.Fatalf("load printed %q", out)
	}
	args := append(append([]string{}, global...), "--runtime=runc", "run", "--pull=never", "--rm", "--network=none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "localhost/rules-wharf/hello:latest")
	got := run(t, "/", nil, podman, args...)
	for _, w := range wantOutput {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("podman run output lacks %q; got:\n%s", w, got)
		}
	}
}
