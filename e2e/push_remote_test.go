//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pushSummary is the summary line `wharf push` writes for one image (or the totals).
var pushSummary = regexp.MustCompile(`sent (\d+) blobs \(([^):]*)(?:: ([^)]*))?\), present (\d+) \([^)]*\), mounted (\d+) \(`)

type pushCounts struct {
	sent, present, mounted int
	from                   string
}

// lastCounts returns the counts of the last summary line in stderr (the totals when
// several images were pushed).
func lastCounts(t *testing.T, stderr string) pushCounts {
	t.Helper()
	all := pushSummary.FindAllStringSubmatch(stderr, -1)
	if len(all) == 0 {
		t.Fatalf("no push summary in:\n%s", stderr)
	}
	m := all[len(all)-1]
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	return pushCounts{sent: n(m[1]), from: m[3], present: n(m[4]), mounted: n(m[5])}
}

// TestPushFromRemoteCache builds three images that share a base with bazel-remote as the
// remote cache, then, after `bazel clean`, with --remote_download_minimal, and pushes them
// with one oci_push_all: every layer comes from the remote cache (the client downloads
// only metadata), the digests equal those of the first build, and a second push sends
// nothing. Then an image on an oci.pull base from the same registry mounts the base's
// layers instead of sending them.
func TestPushFromRemoteCache(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	reg := startRegistry(t)
	cacheAddr := startBazelRemote(t)

	// A new workspace (and so a new output base) each run: the remote cache starts empty
	// and only actions that run upload their outputs.
	ws, err := os.MkdirTemp(cacheDir(), "e2e-push-remote-")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"WHARF_BIND=" + root}
	defer os.RemoveAll(ws)
	defer run(t, ws, env, bazel, "clean", "--expunge")
	apps := []string{"one", "two", "three"}
	targets := writePusherWorkspace(t, ws, root, cacheAddr, apps)
	// No disk cache: tools/bazel's shared one (given with --bazelrc, read after the
	// workspace's) would answer instead of the remote cache, which then gets nothing.
	noDisk := "--disk_cache="

	// 1. Every action runs here and uploads its outputs; these digests are the reference.
	run(t, ws, env, bazel, "build", noDisk, "//:one", "//:two", "//:three")
	want := map[string]string{}
	for _, app := range apps {
		b, err := os.ReadFile(filepath.Join(ws, "bazel-bin", app+".digest"))
		if err != nil {
			t.Fatal(err)
		}
		want[app] = strings.TrimSpace(string(b))
	}

	// 2. After `bazel clean`, build and push without the bytes.
	run(t, ws, env, bazel, "clean")
	run(t, ws, env, bazel, "build", noDisk, "--remote_download_minimal", "//:release")
	stdout, stderr := runSplit(t, ws, env, bazel, "run", noDisk, "--remote_download_minimal", "//:release", "--", "--registry", reg)
	t.Logf("push summary:\n%s", summaryOf(stderr))
	checkMinimalPush(t, ws, reg, apps, want, stdout, stderr)

	// 3. Nothing changed: nothing is sent again.
	_, stderr = runSplit(t, ws, env, bazel, "run", noDisk, "--remote_download_minimal", "//:release", "--", "--registry", reg)
	if c := lastCounts(t, stderr); c.sent != 0 || c.present == 0 {
		t.Errorf("second push: %+v; want 0 sent, all present:\n%s", c, summaryOf(stderr))
	}

	// 4. An image on a base pulled from the same registry: its layers are mounted.
	checkPushOnPulledBase(t, ws, env, bazel, root, reg, targets, want["one"])
}

// writePusherWorkspace writes a module that builds the example packages' image with the
// prebuilt tool (as a user with a released binary has it, so that nothing of rules_go runs
// and every image action is executed here and uploaded) and one image per app on it, with
// a remote cache at cacheAddr; it returns the BUILD file.
func writePusherWorkspace(t *testing.T, ws, root, cacheAddr string, apps []string) string {
	t.Helper()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ws, "wharf"), "./tools/cmd/wharf")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build wharf: %v\n%s", err, out)
	}
	lock, err := os.ReadFile(filepath.Join(root, "examples", "hello_image", "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(root, "examples", "apk_repo")
	write := writer(t, ws)
	write("base.lock.json", strings.ReplaceAll(string(lock), `"../apk_repo/`, `"file://`+repoDir+"/"))
	write("MODULE.bazel", consumerModule("pusher", root)+`
apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "base", lock = "//:base.lock.json")
use_repo(apk, "base")

register_toolchains("//:wharf_toolchain")
`)
	var targets strings.Builder
	targets.WriteString(`load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_layer", "oci_push", "oci_push_all")
load("@rules_wharf//toolchain:toolchain.bzl", "wharf_toolchain")

wharf_toolchain(name = "wharf_prebuilt", wharf = "wharf")

toolchain(name = "wharf_toolchain", toolchain = ":wharf_prebuilt", toolchain_type = "@rules_wharf//toolchain:type")

oci_layer(name = "runtime", files = {"runtime.bin": "/opt/runtime.bin"})

oci_image(name = "base_image", apks = "@base", entrypoint = ["/bin/sh"], layers = [":runtime"])
`)
	// Sizes of a small real image: an 8 MB shared layer, 2 MB per app, incompressible
	// (the example packages alone are a few kilobytes, less than the images' metadata).
	write("runtime.bin", string(noise(1, 8<<20)))
	for i, app := range apps {
		write(app+".txt", string(noise(int64(i+2), 2<<20)))
		fmt.Fprintf(&targets, `
oci_layer(name = "%[1]s_layer", files = {"%[1]s.txt": "/etc/%[1]s.txt"})

oci_image(name = "%[1]s", base = ":base_image", layers = [":%[1]s_layer"])

oci_push(name = "push_%[1]s", image = ":%[1]s", repository = "registry.invalid/wharf/%[1]s", remote_tags = ["latest"])
`, app)
	}
	targets.WriteString(`
oci_push_all(name = "release", pushes = [":push_one", ":push_two", ":push_three"])
`)
	write("BUILD.bazel", targets.String())
	// What a team's .bazelrc says; push reads the same lines.
	write(".bazelrc", "common --lockfile_mode=off\nbuild --remote_cache=grpc://"+cacheAddr+"\n")
	return targets.String()
}

// checkMinimalPush: the push printed each app's reference with the digest built, sent every
// layer from the remote cache, and left the client with at most 1% of the images' bytes.
func checkMinimalPush(t *testing.T, ws, reg string, apps []string, want map[string]string, stdout, stderr string) {
	t.Helper()
	blobs := map[string]int64{} // the three images' blobs, each once
	for i, app := range apps {
		ref := reg + "/wharf/" + app + "@" + want[app]
		if got := strings.Fields(stdout); len(got) != len(apps) || got[i] != ref {
			t.Fatalf("push printed %q, want %s in line %d", stdout, ref, i+1)
		}
		for d, n := range imageBlobs(t, ref) {
			blobs[d] = n
		}
	}
	var imageBytes int64
	for _, n := range blobs {
		imageBytes += n
	}
	c := lastCounts(t, stderr)
	if c.sent == 0 || !strings.Contains(c.from, "remote cache") || strings.Contains(c.from, "output tree") || strings.Contains(c.from, "disk cache") {
		t.Errorf("push sent %d blobs from %q; want every layer from the remote cache", c.sent, c.from)
	}
	downloaded := duBytes(t, filepath.Join(ws, "bazel-out"))
	pct := 100 * float64(downloaded) / float64(imageBytes)
	t.Logf("client output tree after build and push with --remote_download_minimal: %d bytes; the three images' blobs: %d bytes (%.2f%%)", downloaded, imageBytes, pct)
	if pct > 1 {
		t.Errorf("the client holds %.2f%% of the images' bytes, want <= 1%%", pct)
	}
}

// checkPushOnPulledBase pushes an image on a base pulled from the same registry (app one's
// image, digest wantOne): the base's layers are mounted, its own layer and config sent.
func checkPushOnPulledBase(t *testing.T, ws string, env []string, bazel, root, reg, targets, wantOne string) {
	t.Helper()
	write := writer(t, ws)
	write("MODULE.bazel", consumerModule("pusher", root)+fmt.Sprintf(`
apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "base", lock = "//:base.lock.json")
use_repo(apk, "base")

oci = use_extension("@rules_wharf//oci:extensions.bzl", "oci")
oci.pull(name = "pulled_one", image = "%s/wharf/one", digest = %q)
use_repo(oci, "pulled_one")

register_toolchains("//:wharf_toolchain")
`, reg, wantOne))
	write("four.txt", "app four\n")
	write("BUILD.bazel", targets+`
oci_layer(name = "four_layer", files = {"four.txt": "/etc/four.txt"})

oci_image(name = "four", base = "@pulled_one", layers = [":four_layer"])

oci_push(name = "push_four", image = ":four", repository = "registry.invalid/wharf/four")
`)
	_, stderr := runSplit(t, ws, env, bazel, "run", "--disk_cache=", "--remote_download_minimal", "//:push_four", "--", "--registry", reg)
	t.Logf("push of an image on a pulled base:\n%s", summaryOf(stderr))
	baseLayers := len(remoteManifest(t, tool(t, "crane"), reg+"/wharf/one@"+wantOne).Layers)
	if c := lastCounts(t, stderr); c.mounted != baseLayers || c.sent != 2 || !strings.Contains(c.from, "output tree") {
		t.Errorf("push of :four: %+v; want the base's %d layers mounted, its layer and config sent", c, baseLayers)
	} else {
		t.Logf("mounted %d base layers from %s/wharf/one", c.mounted, reg)
	}
}

// summaryOf returns push's summary lines from a `bazel run`'s stderr.
func summaryOf(stderr string) string {
	var out []string
	keep := false
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "pushed ") {
			keep = true
		}
		if keep && (strings.HasPrefix(l, "pushed ") || strings.HasPrefix(l, "  ")) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// imageBlobs returns the sizes of an image's config and layers in the registry, by digest.
func imageBlobs(t *testing.T, ref string) map[string]int64 {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Config struct {
			Digest string
			Size   int64
		}
		Layers []struct {
			Digest string
			Size   int64
		}
	}
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{m.Config.Digest: m.Config.Size}
	for _, l := range m.Layers {
		out[l.Digest] = l.Size
	}
	return out
}

// noise is n incompressible bytes, the same for the same seed.
func noise(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// duBytes is the apparent size of the files below dir (following no links out of it).
func duBytes(t *testing.T, dir string) int64 {
	t.Helper()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	filepath.Walk(real, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}
