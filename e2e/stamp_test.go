//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStampedMetadata builds //examples/stamped:image without --stamp (placeholders kept,
// created at the epoch), then under --stamp (labels, annotation and created from the
// workspace status), then without again (the first digest again), and pushes it to two
// repositories in one run. A key the status lacks fails the build naming label and key.
func TestStampedMetadata(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	crane := tool(t, "crane")
	const target = "//examples/stamped:image"
	digestFile := filepath.Join(root, "bazel-bin", "examples", "stamped", "image.digest")
	configFile := filepath.Join(root, "bazel-bin", "examples", "stamped", "image.config.json")

	run(t, root, nil, bazel, "build", target)
	unstamped := readFile(t, digestFile)
	if c := readFile(t, configFile); !strings.Contains(c, `"created":"1970-01-01T00:00:00Z"`) || !strings.Contains(c, `"org.opencontainers.image.revision":"{STABLE_GIT_COMMIT}"`) {
		t.Fatalf("unstamped config: %s", c)
	}

	runFails(t, root, nil, []string{`label org.opencontainers.image.revision = "{STABLE_GIT_COMMIT}": the workspace status has no key STABLE_GIT_COMMIT`},
		bazel, "build", "--stamp", target)

	status := "--workspace_status_command=" + filepath.Join(root, "e2e", "workspace_status.sh")
	run(t, root, nil, bazel, "build", "--stamp", "--embed_label=2.0.0", status, target)
	checkStampedConfig(t, readFile(t, configFile))
	if d := readFile(t, digestFile); d == unstamped {
		t.Fatalf("stamped digest %s equals the unstamped one", d)
	}

	run(t, root, nil, bazel, "build", target)
	if d := readFile(t, digestFile); d != unstamped {
		t.Fatalf("unstamped digest %s after a stamped build, want %s as before", d, unstamped)
	}

	addr := startRegistry(t)
	out := run(t, root, nil, bazel, "run", "--stamp", "--embed_label=2.0.0", status, "//examples/stamped:push", "--", "--registry", addr)
	lines := strings.Fields(out)
	var repos []string
	for _, l := range lines {
		repo, digest, _ := strings.Cut(l, "@")
		repos = append(repos, repo)
		if got := strings.TrimSpace(run(t, root, nil, crane, "digest", repo+":latest")); got != digest {
			t.Errorf("%s:latest is %s, want %s", repo, got, digest)
		}
		checkStampedConfig(t, run(t, root, nil, crane, "config", repo+":latest"))
		if m := run(t, root, nil, crane, "manifest", repo+":latest"); !strings.Contains(m, `"org.opencontainers.image.revision":"e2e0123"`) {
			t.Errorf("%s: manifest lacks the stamped annotation: %s", repo, m)
		}
	}
	want := []string{addr + "/wharf/stamped", addr + "/wharf/stamped-mirror"}
	if slices.Sort(repos); !slices.Equal(repos, want) {
		t.Fatalf("pushed to %v, want %v (output %q)", repos, want, out)
	}
}

func checkStampedConfig(t *testing.T, config string) {
	t.Helper()
	var c struct {
		Created time.Time
		Config  struct{ Labels map[string]string }
	}
	if err := json.Unmarshal([]byte(config), &c); err != nil {
		t.Fatalf("config %s: %v", config, err)
	}
	l := c.Config.Labels
	if l["org.opencontainers.image.revision"] != "e2e0123" || l["org.opencontainers.image.version"] != "2.0.0" || l["org.opencontainers.image.vendor"] != "rules_wharf" {
		t.Errorf("stamped labels %v", l)
	}
	// The build's time: Bazel reruns an action for a new volatile status only when it has
	// other reasons to, so a repeated run may see an earlier build's time.
	if c.Created.Year() < 2026 || c.Created.After(time.Now().Add(time.Minute)) {
		t.Errorf("created %s, want a build's time", c.Created)
	}
}
