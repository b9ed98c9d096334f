//go:build e2e

package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPushStampedTags pushes //examples/hello_image:push_stamped under --stamp: its tags
// come from --embed_label, the workspace status command and another rule's file, and all
// of them point at the pushed digest. Without --stamp the run refuses the placeholder tag
// and pushes nothing; --tag replaces the rule's tags.
func TestPushStampedTags(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	crane := tool(t, "crane")
	addr := startRegistry(t)
	repo := addr + "/wharf/stamped"
	const target = "//examples/hello_image:push_stamped"

	cmd := exec.Command(bazel, "run", target, "--", "--repository", repo)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("push of placeholder tags without --stamp succeeded")
	}
	const refusal = `tag "v{BUILD_EMBED_LABEL}" holds a workspace status placeholder, which is expanded only when stamping: build with --stamp (or stamp = 1 on the oci_push)`
	if !strings.Contains(stderr.String(), refusal) {
		t.Fatalf("without --stamp: error lacks %q:\n%s", refusal, tail(stderr.String(), 3000))
	}
	t.Logf("without --stamp the user sees: %s", refusal)
	if out, err := exec.Command(crane, "ls", repo).CombinedOutput(); err == nil && strings.TrimSpace(string(out)) != "" {
		t.Fatalf("registry has tags %q after a refused push", out)
	}

	pushed := strings.TrimSpace(run(t, root, nil, bazel, "run", "--stamp", "--embed_label=1.2.3",
		"--workspace_status_command="+filepath.Join(root, "e2e", "workspace_status.sh"), target, "--", "--repository", repo))
	digest := strings.TrimPrefix(pushed, repo+"@")
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("push printed %q", pushed)
	}
	want := []string{"git-e2e0123", "release", "stable", "v1.2.3"}
	got := strings.Fields(run(t, root, nil, crane, "ls", repo))
	slices.Sort(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tags %v, want %v", got, want)
	}
	for _, tag := range want {
		if d := strings.TrimSpace(run(t, root, nil, crane, "digest", repo+":"+tag)); d != digest {
			t.Errorf("tag %s is on %s, want %s", tag, d, digest)
		}
	}

	// --tag replaces the rule's tags, stamped or not.
	other := addr + "/wharf/stamped-given"
	run(t, root, nil, bazel, "run", target, "--", "--repository", other, "--tag", "given")
	if got := strings.TrimSpace(run(t, root, nil, crane, "ls", other)); got != "given" {
		t.Errorf("with --tag given: tags %q", got)
	}
}
