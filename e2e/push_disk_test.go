//go:build e2e

package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPushFromDiskCache is the layout Bazel 7 leaves by default with a --disk_cache (as
// tools/bazel gives every build): after `bazel clean` the rebuild takes every action from
// the disk cache and, building without the bytes, writes no intermediate output to the
// output tree. `bazel run :push` must still build every layer (the push target asks for
// them) and stream the missing ones from the disk cache, which it learns from the rc file
// Bazel was given (--bazelrc, passed on as $WHARF_BAZELRC by tools/bazel).
func TestPushFromDiskCache(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	crane := tool(t, "crane")
	const target = "//examples/hello_image:push"

	// Warm the disk cache, then drop the output tree: the next build is all cache hits.
	run(t, root, nil, bazel, "build", target)
	run(t, root, nil, bazel, "clean")
	run(t, root, nil, bazel, "build", target)

	// The plan's layers, by exec path: the cache hits left (some of) them only in the cache.
	execroot := strings.TrimSpace(run(t, root, nil, bazel, "info", "execution_root"))
	plan, err := os.Open(filepath.Join(root, "bazel-bin", "examples", "hello_image", "push.plan"))
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	var layers, absent int
	sc := bufio.NewScanner(plan)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "--layer=")
		if !ok {
			continue
		}
		layers++
		blob, _, _ := strings.Cut(v, "=")
		if _, err := os.Stat(filepath.Join(execroot, blob)); os.IsNotExist(err) {
			absent++
		}
	}
	if absent == 0 {
		t.Fatalf("all %d layers are in the output tree after a rebuild from the disk cache: this test shows nothing", layers)
	}
	t.Logf("%d of %d layers are not in the output tree", absent, layers)

	repo := startRegistry(t) + "/wharf/from-disk-cache"
	cmd := exec.Command(bazel, "run", target, "--", "--repository", repo, "--progress", "never")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("push after a rebuild from the disk cache: %v\n%s", err, tail(string(out), 4000))
	}
	summary := regexp.MustCompile(`sent \d+ blobs \([^)]*\)[^\n]*`).FindString(string(out))
	if !regexp.MustCompile(`disk cache \d+`).MatchString(summary) {
		t.Fatalf("summary does not count blobs from the disk cache: %q\n%s", summary, tail(string(out), 3000))
	}
	t.Logf("push summary: %s", summary)
	run(t, root, nil, crane, "validate", "--remote", repo+":latest")
}
