//go:build e2e

package e2e

import (
	"crypto/md5"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// shallowLayerBytes is the size of each of the big base's random (incompressible) layers;
// four make a base of over 200 MB.
const shallowLayerBytes = 52 << 20

// TestShallowBase: an image on a pulled base of over 200 MB builds and pushes (to the
// same registry, by mount) with the client's repository cache, external directory and output
// tree holding under 1% of the base's bytes; its layers repository is never fetched for that.
// oci_load's run script, with no attribute or flag, streams the base's layers from the
// registry into podman (and a small base's into containerd through a temporary file) with
// the build's digests, and the client still holds no layer. A tarball and a structure test
// of the same image fetch the layers and work; a push or load whose base blob the source
// registry no longer has fails naming the blob and where it looked.
func TestShallowBase(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	// Deletes allowed: a blob goes missing at the source before a push.
	t.Setenv("REGISTRY_STORAGE_DELETE_ENABLED", "true")
	addr := startRegistry(t)
	big, bigBytes := pushRandomBase(t, addr+"/wharf/bigbase", 4, shallowLayerBytes)
	small, _ := pushRandomBase(t, addr+"/wharf/smallbase", 2, 1<<20)

	ws := filepath.Join(cacheDir(), "e2e-shallow")
	os.RemoveAll(ws)
	// A previous run's pulled repositories would hide what this one fetches. The output base
	// is the workspace's: Bazel names it by the MD5 of its path (tools/bazel sets the root).
	external := filepath.Join(cacheDir(), "out", fmt.Sprintf("%x", md5.Sum([]byte(ws))), "external")
	for _, d := range globDirs(t, external, "*oci[~+]*") {
		os.RemoveAll(d)
	}
	write := writer(t, ws)
	write("MODULE.bazel", consumerModule("consumer", root)+fmt.Sprintf(`
oci = use_extension("@rules_wharf//oci:extensions.bzl", "oci")
oci.pull(name = "big", image = %q, digest = %q)
oci.pull(name = "small", image = %q, digest = %q)
use_repo(oci, "big", "small")
`, addr+"/wharf/bigbase", big.digest, addr+"/wharf/smallbase", small.digest))
	write("extra.txt", "on a shallow base\n")
	write("st.yaml", "schemaVersion: 2.0.0\nfileExistenceTests:\n- name: extra\n  path: /etc/extra.txt\n  shouldExist: true\n")
	write("BUILD.bazel", fmt.Sprintf(`load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_layer", "oci_load", "oci_push", "oci_structure_test")

oci_layer(name = "extra", files = {":extra.txt": "/etc/extra.txt"})

oci_image(name = "image", base = "@big", layers = [":extra"])

oci_push(name = "push", image = ":image", repository = %q)

oci_structure_test(name = "st", image = ":image", configs = ["st.yaml"], fetch_base_layers = True)

oci_structure_test(name = "st_shallow", image = ":on_small", configs = ["st.yaml"])

oci_load(name = "load_full", image = ":image", repo_tags = ["shallow:full"], fetch_base_layers = True)

oci_load(name = "load", image = ":image", repo_tags = ["shallow:test"], cli = "podman")

oci_load(name = "load_small", image = ":on_small", repo_tags = ["shallow:small"], cli = "podman")

oci_load(name = "load_small_ctr", image = ":on_small", repo_tags = ["shallow:ctr"], cli = "ctr")

oci_image(name = "on_small", base = "@small", layers = [":extra"])

oci_push(name = "push_small", image = ":on_small", repository = %q)
`, addr+"/wharf/app", addr+"/wharf/app-small"))
	write(".bazelrc", "common --lockfile_mode=off\n")
	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	repoCache := filepath.Join(ws, "repository-cache")
	cache := "--repository_cache=" + repoCache

	// An output tree of its own: a previous run's would count.
	run(t, ws, env, bazel, "clean")

	// Build and push: the base's layers are mounted, never downloaded.
	run(t, ws, env, bazel, "build", cache, "//:image", "//:push")
	out, errOut := runSplit(t, ws, env, bazel, "run", cache, "//:push")
	pushed := strings.TrimSpace(out)
	if !strings.HasPrefix(pushed, addr+"/wharf/app@sha256:") || !strings.Contains(errOut, "mounted 4 (") {
		t.Fatalf("push printed %q; want the image pushed with the base's 4 layers mounted:\n%s", pushed, tail(errOut, 2000))
	}
	m := remoteManifest(t, tool(t, "crane"), pushed)
	if got := manifestLayers(m); len(got) != 5 || strings.Join(got[:4], " ") != strings.Join(big.layers, " ") {
		t.Fatalf("pushed layers %v, want the base's %v and one", got, big.layers)
	}
	// To another registry: the base's layers stream from the registry they were pulled from.
	other := startRegistry(t)
	out, errOut = runSplit(t, ws, env, bazel, "run", cache, "//:push", "--", "--repository", other+"/wharf/app")
	if !strings.HasPrefix(strings.TrimSpace(out), other+"/wharf/app@"+strings.TrimPrefix(pushed, addr+"/wharf/app@")) || !strings.Contains(errOut, "origin registry 4") {
		t.Fatalf("push to %s printed %q; want the same image, 4 blobs sent from the origin registry:\n%s", other, out, tail(errOut, 2000))
	}
	logLines(t, errOut, "sent ")
	if got := filepath.Join(strings.TrimSpace(run(t, ws, env, bazel, "info", cache, "output_base")), "external"); got != external {
		t.Fatalf("output base's external is %s, not %s", got, external)
	}
	outputTree := strings.TrimSpace(run(t, ws, env, bazel, "info", cache, "output_path"))
	if layersRepos := globDirs(t, external, "*oci?big_layers"); len(layersRepos) != 0 {
		t.Fatalf("the build and push fetched the layers repository %v", layersRepos)
	}
	client := baseBytesOnClient(t, big, repoCache, external, outputTree)
	for _, d := range globDirs(t, external, "*oci?big*") {
		t.Logf("du -sb %s: %s", d, strings.Fields(run(t, ws, nil, "du", "-sb", d))[0])
	}
	t.Logf("a base of %d bytes (%s) costs the client %d bytes (%.4f%%) to build on and push: repository cache, external and output tree; totals: repository cache %d, external %d, output tree %d",
		bigBytes, mib(bigBytes), client, 100*float64(client)/float64(bigBytes), duBytes(t, repoCache), duBytes(t, external), duBytes(t, outputTree))
	if client*100 > bigBytes {
		t.Errorf("the client holds %d bytes of a %d-byte base; want at most 1%%", client, bigBytes)
	}

	// :load's run script, no flag: the base's layers stream from the registry into podman.
	checkShallowLoad(t, ws, env, cache)
	if layersRepos := globDirs(t, external, "*oci?big_layers"); len(layersRepos) != 0 {
		t.Fatalf("building and running :load fetched the layers repository %v", layersRepos)
	}
	after := baseBytesOnClient(t, big, repoCache, external, outputTree)
	t.Logf("after :load's run the base costs the client %d bytes (%.4f%%)", after, 100*float64(after)/float64(bigBytes))
	if after*100 > bigBytes {
		t.Errorf("after the load the client holds %d bytes of a %d-byte base; want at most 1%%", after, bigBytes)
	}
	checkShallowLoadCtr(t, ws, env, cache)

	// What needs the bytes fetches them: the tarball and the structure test.
	run(t, ws, env, bazel, "build", cache, "--@rules_wharf//oci/settings:fetch_base_layers", "--output_groups=tarball", "//:image")
	img, err := tarball.ImageFromPath(filepath.Join(ws, "bazel-bin", "image.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := layerDigests(t, img); len(got) != 5 || strings.Join(got[:4], " ") != strings.Join(big.layers, " ") {
		t.Fatalf("tarball layers %v, want the base's %v and one", got, big.layers)
	}
	if layersRepos := globDirs(t, external, "*oci?big_layers"); len(layersRepos) != 1 {
		t.Fatalf("the tarball's build fetched no layers repository: %v", layersRepos)
	}
	run(t, ws, env, bazel, "test", cache, "//:st")
	run(t, ws, env, bazel, "build", cache, "//:load_full")
	img, err = tarball.ImageFromPath(filepath.Join(ws, "bazel-bin", "load_full.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := layerDigests(t, img); len(got) != 5 || strings.Join(got[:4], " ") != strings.Join(big.layers, " ") {
		t.Fatalf("oci_load's tarball layers %v, want the base's %v and one", got, big.layers)
	}

	// Without the flag or the attribute: the message says what is missing and how to get it.
	hint := []string{"base layer " + small.layers[0], "is not in the layout", "set fetch_base_layers = True on the oci_load or oci_structure_test", "--@rules_wharf//oci/settings:fetch_base_layers"}
	logLines(t, runFails(t, ws, env, hint, bazel, "build", cache, "--output_groups=tarball", "//:on_small"), "base layer")
	// oci_load's tarball too: bazel run streams it, but a tarball file is never incomplete.
	logLines(t, runFails(t, ws, env, hint, bazel, "build", cache, "--output_groups=tarball", "//:load_small"), "base layer")
	out = runFails(t, ws, env, []string{"//:st_shallow"}, bazel, "test", cache, "--test_output=errors", "//:st_shallow")
	for _, w := range hint {
		if !strings.Contains(out, w) {
			t.Errorf("the structure test's output lacks %q:\n%s", w, tail(out, 3000))
		}
	}

	// A base blob the source registry no longer has: the push names it and where it looked.
	deleteBlob(t, addr+"/wharf/smallbase", small.layers[1])
	out = runFails(t, ws, env, []string{"layer blob " + small.layers[1], "found nowhere", "registry " + addr + "/wharf/smallbase"},
		bazel, "run", cache, "//:push_small")
	logLines(t, out, "found nowhere", "the output tree", "registry "+addr, "no remote or disk cache")
	// The same blob for bazel run :load_small: named with the image and the registry.
	run(t, ws, env, bazel, "build", cache, "//:load_small")
	out = runFails(t, "/", []string{podmanPath(t)}, []string{"image //:on_small: base layer " + small.layers[1], "from registry " + addr + "/wharf/smallbase: not found",
		"oci_load //:load_small: the archive was not loaded"}, filepath.Join(ws, "bazel-bin", "load_small.sh"), podmanStore(t)...)
	logLines(t, out, "base layer", "oci_load")
}

// podmanPath puts podman on PATH for bazel run's script.
func podmanPath(t *testing.T) string {
	return "PATH=" + filepath.Dir(tool(t, "podman")) + ":" + os.Getenv("PATH")
}

// checkShallowLoad: the run script of :load, the image on the shallow 208 MiB base with no
// attribute or flag, loads it into podman with the build's digests, the base's layers
// streamed from the registry it was pulled from. The script runs as `bazel run` runs it,
// from bazel-bin, but on this host, where podman is (tools/bazel's Bazel runs in a chroot).
func checkShallowLoad(t *testing.T, ws string, env []string, cache string) {
	t.Helper()
	run(t, ws, env, filepath.Join(repoRoot(t), "tools", "bazel"), "build", cache, "//:load")
	global := podmanStore(t)
	start := time.Now()
	out, errOut := runSplit(t, "/", []string{podmanPath(t)}, filepath.Join(ws, "bazel-bin", "load.sh"), global...)
	took := time.Since(start)
	facts := loadFacts(t, filepath.Join(ws, "bazel-bin", "load.load.txt"))
	if want := "loaded linux/amd64 into podman as docker.io/library/shallow:test"; !strings.Contains(out, want) || !strings.Contains(out, "manifest "+facts["manifest"]) {
		t.Errorf("bazel run :load printed %q; want %q and the manifest %s", out, want, facts["manifest"])
	}
	if !strings.Contains(errOut, "4 base layers from the registry it was pulled from") {
		t.Errorf("load-tar's summary is missing:\n%s", tail(errOut, 2000))
	}
	logLines(t, errOut, "load-tar:")
	got := run(t, "/", nil, tool(t, "podman"), append(global, "image", "inspect", "--format", "{{.Digest}} {{.ID}}", "shallow:test")...)
	if want := facts["manifest"] + " " + strings.TrimPrefix(facts["config"], "sha256:"); strings.TrimSpace(got) != want {
		t.Errorf("podman image inspect shallow:test: %q, want the build's manifest and config: %q", got, want)
	}
	t.Logf(":load's run script streamed the 208 MiB base into podman in %.1fs", took.Seconds())
}

// checkShallowLoadCtr: ctr reads a file: load-tar writes the archive of the image on the
// small shallow base to a temporary file, which the run script removes.
func checkShallowLoadCtr(t *testing.T, ws string, env []string, cache string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Log("containerd runs as root: ctr's load not checked")
		return
	}
	dir, err := os.MkdirTemp("", "wharf-ctr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := startContainerd(t, dir)
	run(t, ws, env, filepath.Join(repoRoot(t), "tools", "bazel"), "build", cache, "//:load_small_ctr")
	env = []string{"CONTAINERD_SNAPSHOTTER=native", "PATH=" + filepath.Dir(tool(t, "ctr")) + ":" + os.Getenv("PATH"), "TMPDIR=" + dir}
	out := run(t, "/", env, filepath.Join(ws, "bazel-bin", "load_small_ctr.sh"), "-a", sock, "-n", "wharf-e2e")
	facts := loadFacts(t, filepath.Join(ws, "bazel-bin", "load_small_ctr.load.txt"))
	if want := "into ctr as docker.io/library/shallow:ctr"; !strings.Contains(out, want) || !strings.Contains(out, "manifest "+facts["manifest"]) {
		t.Errorf("bazel run :load_small_ctr printed %q; want %q and the manifest %s", out, want, facts["manifest"])
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "tmp.*")); len(left) > 0 {
		t.Errorf("the archive's temporary file was left: %v", left)
	}
}

// logLines logs the lines of out that contain one of parts: the messages a user reads.
func logLines(t *testing.T, out string, parts ...string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		for _, p := range parts {
			if strings.Contains(l, p) {
				t.Logf("message: %s", l)
				break
			}
		}
	}
}

// randomBase is an image pushed to a registry: its digest, its config's and its layers'.
type randomBase struct {
	digest, config string
	layers         []string
}

// pushRandomBase pushes a linux/amd64 image of n random (incompressible) layers of size
// bytes each to ref and returns it and its layers' total size.
func pushRandomBase(t *testing.T, ref string, n int, size int64) (randomBase, int64) {
	t.Helper()
	img, err := random.Image(size, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref+":latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	c, _ := img.ConfigName()
	base := randomBase{digest: d.String(), config: c.String(), layers: layerDigests(t, img)}
	var total int64
	ls, _ := img.Layers()
	for _, l := range ls {
		s, _ := l.Size()
		total += s
	}
	return base, total
}

// baseBytesOnClient adds up what the base left on the client: the repository cache's
// entries of its blobs, its repositories in external, and the output tree's files of its
// repositories and of the image's reading of it (image.base.*). It fails when any file
// anywhere in those trees is one of its layers.
func baseBytesOnClient(t *testing.T, b randomBase, repoCache, external, outputTree string) int64 {
	t.Helper()
	blobs := map[string]bool{}
	for _, d := range append([]string{b.digest, b.config}, b.layers...) {
		blobs[strings.TrimPrefix(d, "sha256:")] = false
	}
	for _, l := range b.layers {
		blobs[strings.TrimPrefix(l, "sha256:")] = true
	}
	var total int64
	for _, dir := range []string{repoCache, external, outputTree} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			// The repository cache keeps a blob as content_addressable/sha256/<hex>/file.
			hex := filepath.Base(p)
			if dir == repoCache {
				hex = filepath.Base(filepath.Dir(p))
			}
			layer, known := blobs[hex]
			if layer {
				t.Errorf("%s: a layer of the base is on the client", p)
			}
			ofBase := known || pulledRepo(p) || strings.HasPrefix(filepath.Base(p), "image.base.")
			if fi, err := d.Info(); err == nil && ofBase {
				total += fi.Size()
			}
			return nil
		})
	}
	return total
}

// pulledRepo says whether p is in (or in the output tree of) a repository oci.pull made
// for @big: rules_wharf~~oci~big (Bazel 7), rules_wharf+/+oci+big (Bazel 8), *_layers.
func pulledRepo(p string) bool {
	for _, c := range strings.Split(p, "/") {
		c = strings.TrimSuffix(c, "_layers")
		if strings.HasSuffix(c, "oci~big") || strings.HasSuffix(c, "oci+big") {
			return true
		}
	}
	return false
}

func globDirs(t *testing.T, dir, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// deleteBlob deletes a blob from a registry repository (the registry must allow deletes).
func deleteBlob(t *testing.T, repo, digest string) {
	t.Helper()
	r, err := name.NewRepository(repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("http://%s/v2/%s/blobs/%s", r.RegistryStr(), r.RepositoryStr(), digest), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE %s@%s: %s", repo, digest, resp.Status)
	}
}
