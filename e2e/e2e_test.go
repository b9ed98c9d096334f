//go:build e2e

// Package e2e builds the example image with Bazel, pushes it to a real registry on
// 127.0.0.1, reads it back with crane, unpacks it with umoci and runs it with runc. It also
// rebuilds from a clean output base (other umask, no caches) and wants the same digest.
//
//	go test -tags e2e -v -timeout 40m ./e2e/
//
// Every tool it uses must be present (e2e/install_tools.sh): a missing tool fails the test.
package e2e

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const (
	imageTarget = "//examples/hello_image:image"
	pushTarget  = "//examples/hello_image:push"
	digestFile  = "bazel-bin/examples/hello_image/image.digest"
	layoutDir   = "bazel-bin/examples/hello_image/image"
)

var wantOutput = []string{
	"greeting: hello from an apk (x86_64)",
	"motd: Welcome to a rules_wharf image.",
	"GREETING_STYLE=friendly",
	"uid=65532 gid=65532",
	`args=["from-cmd"]`,
	"apk packages: wharf-greeting wharf-baselayout wharf-motd",
}

func readDigest(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, digestFile))
	if err != nil {
		t.Fatal(err)
	}
	d := strings.TrimSpace(string(b))
	if !strings.HasPrefix(d, "sha256:") || len(d) != 71 {
		t.Fatalf("digest file holds %q", d)
	}
	return d
}

func TestBuildPushPullRun(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	crane := tool(t, "crane")

	// The layout is an output group, not a default output.
	run(t, root, nil, bazel, "build", "--output_groups=+layout", imageTarget)
	digest := readDigest(t, root)
	t.Logf("built %s", digest)

	// The layout as built must be a valid OCI layout with one ref.name-annotated entry.
	idx, err := layout.ImageIndexFromPath(filepath.Join(root, layoutDir))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("validate layout: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "latest" || im.Manifests[0].Digest.String() != digest {
		t.Fatalf("index.json: %+v", im.Manifests)
	}
	checkSkopeo(t, filepath.Join(root, layoutDir), "latest", digest, false)

	// Push with the runnable target; it prints REPOSITORY@DIGEST.
	addr := startRegistry(t)
	repo := addr + "/wharf/hello"
	out := run(t, root, nil, bazel, "run", pushTarget, "--", "--repository", repo, "--tag", "e2e")
	if got := strings.TrimSpace(out); got != repo+"@"+digest {
		t.Fatalf("push printed %q, want %q", got, repo+"@"+digest)
	}

	// Read it back with crane.
	if got := strings.TrimSpace(run(t, root, nil, crane, "digest", repo+":e2e")); got != digest {
		t.Fatalf("registry has %s for tag e2e, built %s", got, digest)
	}
	run(t, root, nil, crane, "validate", "--remote", repo+":e2e")
	var cfg struct {
		Architecture, OS string
		Config           struct{ Entrypoint, Cmd []string }
	}
	if err := json.Unmarshal([]byte(run(t, root, nil, crane, "config", repo+"@"+digest)), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != "amd64" || cfg.OS != "linux" || strings.Join(cfg.Config.Entrypoint, " ") != "/usr/bin/hello" {
		t.Fatalf("config read back: %+v", cfg)
	}
	pulled := filepath.Join(t.TempDir(), "pulled")
	run(t, root, nil, crane, "pull", "--format", "oci", repo+"@"+digest, pulled)

	relaid := relayPulled(t, pulled, digest)
	got, _ := runImage(t, relaid+":e2e")
	for _, w := range wantOutput {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("container output lacks %q; got:\n%s", w, got)
		}
	}
}

// relayPulled re-indexes the layout crane pulled with the ref.name "e2e", which umoci wants
// and crane pull writes none of, after checking it holds the image built (digest); it
// returns the new layout.
func relayPulled(t *testing.T, pulled, digest string) string {
	t.Helper()
	pidx, err := layout.ImageIndexFromPath(pulled)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := pidx.IndexManifest()
	if err != nil || len(pm.Manifests) != 1 {
		t.Fatalf("pulled layout: %v %+v", err, pm)
	}
	img, err := pidx.Image(pm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d.String() != digest {
		t.Fatalf("pulled %s, built %s", d, digest)
	}
	relaid := filepath.Join(t.TempDir(), "relaid")
	p, err := layout.Write(relaid, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "e2e"})); err != nil {
		t.Fatal(err)
	}
	return relaid
}

// TestCleanRebuildSameDigest builds the example in a fresh output base, with no disk cache,
// another umask and time zone, and every action a sandboxed process (the main build runs the
// wharf actions in persistent workers), and wants the digest of the main build.
func TestCleanRebuildSameDigest(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	run(t, root, nil, bazel, "build", imageTarget)
	want := readDigest(t, root)

	// One output base per checkout: two worktrees running this test at once must not share it.
	base := filepath.Join(cacheDir(), "out", fmt.Sprintf("e2e-clean-output-base-%x", sha256.Sum256([]byte(root)))[:len("e2e-clean-output-base-")+12])
	os.RemoveAll(base)
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	env := []string{"TZ=Pacific/Chatham", "LC_ALL=C"}
	startup := "--output_base=" + base
	defer func() {
		exec.Command(bazel, startup, "shutdown").Run()
		os.RemoveAll(base)
	}()
	cmd := exec.Command(bazel, startup, "build", "--disk_cache=", "--spawn_strategy=sandboxed", imageTarget)
	cmd.Dir, cmd.Env = root, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sandboxed clean rebuild: %v\n%s", err, tail(string(out), 4000))
	}
	// Bazel's summary names the strategies: "N processes: ... M processwrapper-sandbox".
	summary := regexp.MustCompile(`\d+ processes: [^\n]*`).FindString(string(out))
	if !strings.Contains(summary, "sandbox") || strings.Contains(summary, "worker") {
		t.Errorf("the clean rebuild was to run sandboxed processes only; summary: %q", summary)
	}
	// The convenience symlinks now point into the new output base.
	got := readDigest(t, root)
	if got != want {
		t.Fatalf("clean rebuild in %s gave %s, first build %s", base, got, want)
	}
	t.Logf("clean rebuild in a new output base: %s", got)
	// Point bazel-* back at the default output base.
	run(t, root, nil, bazel, "build", imageTarget)
}

// TestDerivedImageRuns runs an image built on top of another.
func TestDerivedImageRuns(t *testing.T) {
	root := repoRoot(t)
	run(t, root, nil, filepath.Join(root, "tools", "bazel"), "build", "--output_groups=+layout", "//examples/hello_image:derived")
	got, rootfs := runImage(t, filepath.Join(root, "bazel-bin", "examples", "hello_image", "derived")+":latest")
	for _, w := range []string{"GREETING_STYLE=derived from friendly", "uid=65532 gid=65532", "motd: Welcome to a rules_wharf image."} {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("derived image output lacks %q; got:\n%s", w, got)
		}
	}
	if b, err := os.ReadFile(filepath.Join(rootfs, "etc", "wharf", "extra.txt")); err != nil || !strings.Contains(string(b), "extra file") {
		t.Errorf("extra layer missing: %v", err)
	}
}

// TestLayerBudgetRuns runs the example built with apk_layer_budget = 2: all packages in one
// merged layer must give the same files as one layer each (wharf-motd replaces the
// base layout's /etc/motd, and must still win).
func TestLayerBudgetRuns(t *testing.T) {
	root := repoRoot(t)
	run(t, root, nil, filepath.Join(root, "tools", "bazel"), "build", "--output_groups=+layout", "//examples/hello_image:budget")
	dir := filepath.Join(root, "bazel-bin", "examples", "hello_image", "budget")
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	img, _ := idx.Image(im.Manifests[0].Digest)
	if layers, _ := img.Layers(); len(layers) != 3 {
		t.Fatalf("%d layers, want 3 (packages, apk database, app)", len(layers))
	}
	got, _ := runImage(t, dir+":latest")
	for _, w := range []string{"motd: Welcome to a rules_wharf image.", "greeting: hello from an apk (x86_64)", "apk packages: wharf-greeting wharf-baselayout wharf-motd"} {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("output lacks %q; got:\n%s", w, got)
		}
	}
}

// TestLayoutBaseRuns runs an image whose base is an OCI layout directory (as rules_oci or a
// pull would give), not an image of this rule set.
func TestLayoutBaseRuns(t *testing.T) {
	root := repoRoot(t)
	run(t, root, nil, filepath.Join(root, "tools", "bazel"), "build", "--output_groups=+layout", "//examples/hello_image:on_layout")
	dir := filepath.Join(root, "bazel-bin", "examples", "hello_image", "on_layout")
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatal(err)
	}
	got, rootfs := runImage(t, dir+":latest")
	for _, w := range []string{"GREETING_STYLE=from a layout, friendly", "apk packages: wharf-greeting wharf-baselayout wharf-motd"} {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("output lacks %q; got:\n%s", w, got)
		}
	}
	if _, err := os.Stat(filepath.Join(rootfs, "etc", "wharf", "extra.txt")); err != nil {
		t.Error(err)
	}
}
