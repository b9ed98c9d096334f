//go:build e2e

package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestPullByDigest pushes the example image and index to a local registry, then a consumer
// module pulls them by digest with oci.pull (anonymously, and through a proxy that wants
// basic credentials from a docker config), builds images on top with an extra layer, and
// checks that the base layers are the pushed ones, that the single-platform one runs, and that
// a wrong digest and a tag fail with errors naming the image.
func TestPullByDigest(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	crane := tool(t, "crane")

	addr := startRegistry(t)
	repo := addr + "/wharf/hello"
	pushed := strings.TrimSpace(run(t, root, nil, bazel, "run", pushTarget, "--", "--repository", repo, "--tag", "pull"))
	digest := strings.TrimPrefix(pushed, repo+"@")
	multi := addr + "/wharf/multi"
	pushedIndex := strings.TrimSpace(run(t, root, nil, bazel, "run", "//examples/hello_image:push_multiarch", "--", "--repository", multi))
	indexDigest := strings.TrimPrefix(pushedIndex, multi+"@")
	if !strings.HasPrefix(digest, "sha256:") || !strings.HasPrefix(indexDigest, "sha256:") {
		t.Fatalf("push printed %q and %q", pushed, pushedIndex)
	}
	armDigest := strings.TrimSpace(run(t, root, nil, crane, "digest", "--platform", "linux/arm64", multi+"@"+indexDigest))

	// A registry front that wants basic credentials.
	const user, pass = "wharf", "s3cret:pw"
	var authed, refused atomic.Int64
	target, _ := url.Parse("http://" + addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	guard := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="wharf"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		authed.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer guard.Close()
	guardAddr := strings.TrimPrefix(guard.URL, "http://")

	ws := filepath.Join(cacheDir(), "e2e-pull")
	os.RemoveAll(ws)
	write := writer(t, ws)
	bad := "sha256:" + strings.Repeat("0", 64)
	write("MODULE.bazel", consumerModule("consumer", root)+fmt.Sprintf(`
oci = use_extension("@rules_wharf//oci:extensions.bzl", "oci")
oci.pull(name = "hello", image = %[1]q, digest = %[2]q)
oci.pull(name = "hello_multi", image = %[3]q, digest = %[4]q, platforms = ["linux/amd64", "linux/arm64/v8"])
oci.pull(name = "hello_authed", image = "%[5]s/wharf/hello@%[2]s")
oci.pull(name = "hello_unauthed", image = "localhost:%[7]s/wharf/hello@%[2]s")
oci.pull(name = "bad", image = %[1]q, digest = %[6]q)
oci.pull(name = "tagged", image = "%[1]s:pull")
use_repo(oci, "bad", "hello", "hello_authed", "hello_multi", "hello_unauthed", "tagged")
`, repo, digest, multi, indexDigest, guardAddr, bad, strings.TrimPrefix(guardAddr, "127.0.0.1:")))
	write("extra.txt", "pulled and extended\n")
	write("BUILD.bazel", `load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_image_index", "oci_layer")

oci_layer(name = "extra", files = {":extra.txt": "/etc/wharf/pulled.txt"})

oci_image(name = "on_pulled", base = "@hello", layers = [":extra"], env = {"GREETING_STYLE": "pulled, $GREETING_STYLE"})

oci_image(name = "on_authed", base = "@hello_authed", layers = [":extra"])

oci_image(name = "on_multi", base = "@hello_multi", layers = [":extra"])

oci_image_index(
    name = "multi",
    images = [":on_multi"],
    platforms = ["@rules_wharf//platforms:linux_amd64", "@rules_wharf//platforms:linux_arm64"],
)

oci_image(name = "on_bad", base = "@bad")

oci_image(name = "on_unauthed", base = "@hello_unauthed")

oci_image(name = "on_tagged", base = "@tagged")
`)
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	write("docker/config.json", fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, guardAddr, auth))
	write(".bazelrc", "common --lockfile_mode=off\ncommon --repo_env=DOCKER_CONFIG="+filepath.Join(ws, "docker")+"\n")

	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	cache := "--repository_cache=" + filepath.Join(ws, "repository-cache")
	// Through the credentials proxy first, with a cache of its own: the repository cache
	// serves a blob by digest whatever the URL, so a pull of the same image from the
	// registry itself would leave the proxy nothing to do.
	authedCache := "--repository_cache=" + filepath.Join(ws, "authed-repository-cache")
	run(t, ws, env, bazel, "build", authedCache, "//:on_authed")
	if authed.Load() == 0 || refused.Load() != 0 {
		t.Fatalf("credentials proxy: %d authorized, %d refused requests; want only authorized ones", authed.Load(), refused.Load())
	}
	// Fetched again, the repository is made from the repository cache alone: every blob
	// (manifest included) is asked for by its digest, so no request reaches the registry.
	before := authed.Load() + refused.Load()
	run(t, ws, env, bazel, "fetch", authedCache, "--force", "--repo=@hello_authed")
	run(t, ws, env, bazel, "build", authedCache, "//:on_authed")
	if n := authed.Load() + refused.Load() - before; n != 0 {
		t.Fatalf("refetching @hello_authed sent %d requests to the registry; want all from the repository cache", n)
	}
	// The layouts hold the base's layers: the build asks for them (shallow bases).
	run(t, ws, env, bazel, "build", "--output_groups=+layout", "--@rules_wharf//oci/settings:fetch_base_layers", cache, "//:on_pulled", "//:on_authed", "//:multi")

	// The pushed image's layers (as the registry has them) are the bottom of the new one,
	// unchanged.
	ref, err := name.ParseReference(repo+"@"+digest, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pushedImg, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	want := layerDigests(t, pushedImg)
	for _, name := range []string{"on_pulled", "on_authed"} {
		img := imageFromLayout(t, filepath.Join(ws, "bazel-bin", name))
		got := layerDigests(t, img)
		if len(got) != len(want)+1 || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
			t.Fatalf("%s: layers %v, want the pulled %v plus one", name, got, want)
		}
	}
	d, err := os.ReadFile(filepath.Join(ws, "bazel-bin", "on_pulled.digest"))
	if err != nil {
		t.Fatal(err)
	}
	checkSkopeo(t, filepath.Join(ws, "bazel-bin", "on_pulled"), "latest", strings.TrimSpace(string(d)), false)
	out, rootfs := runImage(t, filepath.Join(ws, "bazel-bin", "on_pulled")+":latest")
	// What the pushed example prints, with the environment extended on top of the pulled one.
	for _, w := range append([]string{"GREETING_STYLE=pulled, friendly"}, wantOutput...) {
		if w == "GREETING_STYLE=friendly" {
			continue
		}
		if !strings.Contains(out, w+"\n") {
			t.Errorf("output lacks %q; got:\n%s", w, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(rootfs, "etc", "wharf", "pulled.txt")); err != nil || string(b) != "pulled and extended\n" {
		t.Errorf("extra layer: %q %v", b, err)
	}

	// Per platform: each image of the new index sits on that platform's pulled image.
	top, err := layout.ImageIndexFromPath(filepath.Join(ws, "bazel-bin", "multi"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(top); err != nil {
		t.Fatal(err)
	}
	tm, _ := top.IndexManifest()
	idx, _ := top.ImageIndex(tm.Manifests[0].Digest)
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 2 {
		t.Fatalf("index has %d images", len(im.Manifests))
	}
	for _, m := range im.Manifests {
		img, _ := idx.Image(m.Digest)
		var from string
		if m.Platform.Architecture == "arm64" {
			from = armDigest
		} else {
			from = strings.TrimSpace(run(t, root, nil, crane, "digest", "--platform", "linux/amd64", multi+"@"+indexDigest))
		}
		base := manifestLayers(remoteManifest(t, crane, multi+"@"+from))
		got := layerDigests(t, img)
		if len(got) != len(base)+1 || strings.Join(got[:len(base)], " ") != strings.Join(base, " ") {
			t.Errorf("%s: layers %v, want the pulled %s image's %v plus one", m.Platform.Architecture, got, from, base)
		}
	}

	// A digest the registry does not have, a tag, and no credentials for the host (the docker
	// config has them for 127.0.0.1:PORT, not localhost:PORT): clear errors naming the image.
	// An empty repository cache: the shared one holds every blob by digest, and serves it
	// without asking any registry.
	cache = "--repository_cache=" + filepath.Join(ws, "empty-repository-cache")
	for target, wants := range map[string][]string{
		"//:on_unauthed": {"oci_pull hello_unauthed", "localhost:" + strings.TrimPrefix(guardAddr, "127.0.0.1:") + "/wharf/hello@" + digest, "wants credentials"},
		"//:on_bad":      {"oci_pull bad", repo + "@" + bad},
		"//:on_tagged":   {"oci_pull tagged", repo + ":pull", "pulls by digest only"},
	} {
		cmd := exec.Command(bazel, "build", cache, target)
		cmd.Dir = ws
		cmd.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil {
			t.Errorf("%s built", target)
			continue
		}
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, "Error in fail") {
				t.Logf("%s: %s", target, strings.TrimSpace(l))
			}
		}
		for _, w := range wants {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: error lacks %q:\n%s", target, w, tail(stderr.String(), 3000))
			}
		}
	}
	if refused.Load() == 0 {
		t.Error("the credentials proxy refused nothing: the pull without credentials did not reach it")
	}
}

func imageFromLayout(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("%s: %v %+v", dir, err, im)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return img
}

func layerDigests(t *testing.T, img v1.Image) []string {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return manifestLayers(m)
}

func manifestLayers(m *v1.Manifest) []string {
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Digest.String())
	}
	return out
}
