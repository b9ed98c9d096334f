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
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

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

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func cacheDir() string {
	if c := os.Getenv("WHARF_CACHE"); c != "" {
		return c
	}
	return filepath.Join(os.Getenv("HOME"), ".cache", "rules_wharf")
}

// tool finds a required program: on PATH or in the cache's bin/.
func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join(cacheDir(), "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	t.Fatalf("required tool %s not found (run e2e/install_tools.sh)", name)
	return ""
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr (tail):\n%s", name, strings.Join(args, " "), err, stdout.String(), tail(stderr.String(), 4000))
	}
	t.Logf("%s %s (%.1fs)", filepath.Base(name), strings.Join(args, " "), time.Since(start).Seconds())
	return stdout.String()
}

// runFails runs a command that must fail, with each of wants in its output (stdout and
// stderr), and returns that output.
func runFails(t *testing.T, dir string, env, wants []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	b, err := cmd.CombinedOutput()
	out := string(b)
	what := filepath.Base(name) + " " + strings.Join(args, " ")
	if err == nil {
		t.Fatalf("%s succeeded; want an error saying %q:\n%s", what, wants, tail(out, 3000))
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, tail(out, 3000))
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startRegistry(t *testing.T) string {
	t.Helper()
	return startRegistryConfig(t, "")
}

// startRegistryConfig starts a registry whose configuration has extra (YAML lines) too.
func startRegistryConfig(t *testing.T, extra string) string {
	t.Helper()
	bin := tool(t, "docker-registry")
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf("version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: %s}\n", filepath.Join(dir, "data"), addr) + extra
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return startServer(t, exec.Command(bin, "serve", cfgPath), addr)
}

// startServer starts cmd, a server that listens on addr, stops it when the test ends, and
// waits until it accepts connections; it returns addr.
func startServer(t *testing.T, cmd *exec.Cmd, addr string) string {
	t.Helper()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not start on %s:\n%s", filepath.Base(cmd.Path), addr, logs.String())
	return ""
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

	// umoci wants a ref.name in index.json; crane pull writes none: re-index what crane pulled.
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

	got, _ := runImage(t, relaid+":e2e")
	for _, w := range wantOutput {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("container output lacks %q; got:\n%s", w, got)
		}
	}
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

// runImage unpacks an image from an OCI layout reference (DIR:REF) with umoci and runs it
// with runc, returning what it printed and the unpacked rootfs.
func runImage(t *testing.T, ref string) (string, string) {
	t.Helper()
	umoci, runc := tool(t, "umoci"), tool(t, "runc")
	bundle := filepath.Join(t.TempDir(), "bundle")
	run(t, "/", nil, umoci, "unpack", "--image", ref, bundle)
	cfgPath := filepath.Join(bundle, "config.json")
	var spec map[string]any
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	spec["process"].(map[string]any)["terminal"] = false
	b, _ = json.Marshal(spec)
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, bundle, nil, runc, "run", "--bundle", bundle, fmt.Sprintf("wharf-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()))
	return out, filepath.Join(bundle, "rootfs")
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

// checkSkopeo reads a built layout with skopeo: `inspect` (for an index, `inspect --raw`,
// whose bytes must hash to the digest) and `copy` to a dir: transport, whose manifest.json
// must keep the built digest.
func checkSkopeo(t *testing.T, dir, ref, digest string, index bool) {
	t.Helper()
	skopeo := tool(t, "skopeo")
	src := "oci:" + dir + ":" + ref
	if index {
		raw := run(t, "/", nil, skopeo, "inspect", "--raw", src)
		if got := sha256Hex(raw); got != digest {
			t.Errorf("skopeo inspect --raw %s: bytes hash to %s, built %s", src, got, digest)
		}
	} else {
		var info struct{ Digest, Architecture, Os string }
		if err := json.Unmarshal([]byte(run(t, "/", nil, skopeo, "inspect", src)), &info); err != nil {
			t.Fatal(err)
		}
		if info.Digest != digest || info.Os != "linux" {
			t.Errorf("skopeo inspect %s: %+v, built %s", src, info, digest)
		}
	}
	out := filepath.Join(t.TempDir(), "skopeo-dir")
	args := []string{"--insecure-policy", "copy"}
	if index {
		args = append(args, "--all")
	}
	run(t, "/", nil, skopeo, append(args, src, "dir:"+out)...)
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256Hex(string(b)); got != digest {
		t.Errorf("skopeo copy %s dir:: manifest.json hashes to %s, built %s", src, got, digest)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}
