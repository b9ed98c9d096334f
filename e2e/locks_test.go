//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// probeSource is the program every corpus image runs: it reports what a user of the image
// would look at (distribution, installed packages, repositories, keys, a package's file).
const probeSource = `package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

func main() {
	id := "none"
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := os.ReadFile(p); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(l, "ID="); ok {
					id = strings.Trim(v, "\"")
				}
			}
			break
		}
	}
	fmt.Println("id=" + id)
	db, _ := os.ReadFile("/usr/lib/apk/db/installed")
	fmt.Printf("packages=%d\n", strings.Count("\n"+string(db), "\nP:"))
	repos, _ := os.ReadFile("/etc/apk/repositories")
	fmt.Println("repositories=" + strings.ReplaceAll(strings.TrimSpace(string(repos)), "\n", "|"))
	var keys []string
	es, _ := os.ReadDir("/etc/apk/keys")
	for _, e := range es {
		keys = append(keys, e.Name())
	}
	sort.Strings(keys)
	fmt.Println("keys=" + strings.Join(keys, ","))
	marker, err := os.ReadFile("/usr/share/corpus/marker")
	if err != nil {
		marker = []byte("none")
	}
	fmt.Println("marker=" + strings.TrimSpace(string(marker)))
}
`

func buildProbe(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(goBuild(t, probeSource))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLockCorpus brings the lock shapes users have to a consumer module, as a rules_apko user
// would: Wolfi-shaped (unsigned, 110 packages, two keyrings, two archs), Alpine-shaped (SHA1
// signatures, @ in key names behind %40 URLs), a third-party repository (RSA/SHA256, embedded
// key, tagged repository line), a pre-0.13 lock and a lock with no packages. Packages come
// from a local server with range requests, as from a CDN. Each image is built and run under
// runc; the Wolfi image's SBOM must agree with syft, package URLs included. Then the errors
// a user reads: require_signatures on the unsigned lock, and a broken lock.
func TestLockCorpus(t *testing.T) {
	root := repoRoot(t)
	c := &lockCorpus{bazel: filepath.Join(root, "tools", "bazel"), ws: filepath.Join(cacheDir(), "e2e-lock-corpus"),
		env: []string{"WHARF_BIND=" + root}}
	os.RemoveAll(c.ws)
	srvDir := filepath.Join(c.ws, "srv")

	srv, ranged, whole := rangeServer(srvDir)
	defer srv.Close()
	c.generate(t, root, srvDir, srv.URL)
	c.write = writer(t, c.ws)
	for n, b := range c.locks {
		c.write(n+".lock.json", string(b))
	}
	c.module, c.build = corpusModule(root), corpusBuild()
	c.write("MODULE.bazel", c.module)
	c.write("BUILD.bazel", c.build)
	c.write(".bazelrc", "common --lockfile_mode=off\n")

	defer run(t, c.ws, c.env, c.bazel, "shutdown")
	targets := []string{"//:wolfi_index"}
	for _, n := range corpusNames {
		targets = append(targets, "//:"+n+"_image")
	}
	// A repository cache of its own: every package must come from the server, by range.
	c.cacheFlag = "--repository_cache=" + filepath.Join(c.ws, "repository-cache")
	run(t, c.ws, c.env, c.bazel, append([]string{"build", c.cacheFlag, "--output_groups=+layout,+sbom"}, targets...)...)
	if whole.Load() != 0 || ranged.Load() < int64(2*c.wolfiPackages*2) {
		t.Errorf("server saw %d ranged and %d whole-file requests; want every package by range (>= %d)", ranged.Load(), whole.Load(), 2*c.wolfiPackages*2)
	}
	t.Logf("%d ranged requests, %d whole", ranged.Load(), whole.Load())

	c.checkImages(t, srv.URL)
	// The Wolfi image's SBOM names its packages as syft does: pkg:apk/wolfi/...?distro=wolfi-20230201.
	t.Run("wolfi SBOM and syft", func(t *testing.T) { c.checkWolfiSBOM(t) })
	c.checkErrors(t)
}

// The corpus's locks.
var corpusNames = []string{"alpine", "empty", "pre013", "thirdparty", "wolfi"}

// A lockCorpus is TestLockCorpus' module: where it is, how to run Bazel in it, its locks,
// MODULE.bazel and BUILD.bazel as first written, and the Wolfi lock's package count.
type lockCorpus struct {
	ws, bazel, cacheFlag string
	env                  []string
	write                func(name, content string)
	locks                map[string][]byte
	module, build        string
	wolfiPackages        int
}

// generate makes the corpus (packages, indexes, keys and locks, by
// tools/internal/apk/apktest/corpusgen) in srvDir, served at base, and reads its locks.
func (c *lockCorpus) generate(t *testing.T, root, srvDir, base string) {
	t.Helper()
	probe := buildProbe(t)
	if err := os.MkdirAll(c.ws, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.ws, "probe"), probe, 0o755); err != nil {
		t.Fatal(err)
	}
	var summary struct {
		WolfiPackages int `json:"wolfi_packages"`
	}
	out := run(t, root, nil, "go", "run", "./tools/internal/apk/apktest/corpusgen", "-dir", srvDir, "-base", base, "-probe", filepath.Join(c.ws, "probe"))
	if err := json.Unmarshal([]byte(out), &summary); err != nil || summary.WolfiPackages < 100 {
		t.Fatalf("corpusgen printed %q (%v)", out, err)
	}
	c.wolfiPackages = summary.WolfiPackages
	c.locks = map[string][]byte{}
	for _, n := range corpusNames {
		b, err := os.ReadFile(filepath.Join(srvDir, n+".lock.json"))
		if err != nil {
			t.Fatal(err)
		}
		c.locks[n] = b
	}
}

// corpusModule translates each lock, and the Wolfi lock again with require_signatures.
func corpusModule(root string) string {
	module := consumerModule("corpus", root) + `
apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
`
	for _, n := range corpusNames {
		module += fmt.Sprintf("apk.translate_lock(name = %q, lock = \"//:%s.lock.json\")\n", n, n)
	}
	module += "apk.translate_lock(name = \"wolfi_signed_only\", lock = \"//:wolfi.lock.json\", require_signatures = True)\n"
	module += "use_repo(apk, \"wolfi_signed_only\""
	for _, n := range corpusNames {
		module += fmt.Sprintf(", %q", n)
	}
	return module + ")\n"
}

// corpusBuild: an image of each lock running the probe, and an index of the Wolfi image.
func corpusBuild() string {
	build := `load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_image_index", "oci_layer")

oci_layer(name = "probe_layer", files = {":probe": "/usr/bin/probe"}, modes = {"/usr/bin/probe": "0755"})

# Both architectures of the Wolfi lock.
oci_image_index(
    name = "wolfi_index",
    images = [":wolfi_image"],
    platforms = ["@rules_wharf//platforms:linux_amd64", "@rules_wharf//platforms:linux_arm64"],
)
`
	for _, n := range corpusNames {
		if n == "empty" {
			build += `oci_image(name = "empty_image", apks = "@empty", layers = [":probe_layer"], entrypoint = ["/usr/bin/probe"])
`
			continue
		}
		build += fmt.Sprintf("oci_image(name = %q, apks = %q, entrypoint = [\"/usr/bin/probe\"])\n", n+"_image", "@"+n)
	}
	build += `oci_image(name = "wolfi_signed_only_image", apks = "@wolfi_signed_only", entrypoint = ["/usr/bin/probe"])
`
	return build
}

// checkImages runs each image: the probe prints its distribution, packages, repositories,
// keys and marker (host: the corpus server).
func (c *lockCorpus) checkImages(t *testing.T, host string) {
	t.Helper()
	want := map[string][]string{
		"wolfi": {"id=wolfi", fmt.Sprintf("packages=%d", c.wolfiPackages), "repositories=" + host + "/wolfi/os",
			"keys=chainguard-extras.rsa.pub,wolfi-signing.rsa.pub", "marker=wolfi"},
		"alpine": {"id=alpine", "packages=3", "repositories=" + host + "/alpine/v3.22/main",
			"keys=alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub,alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub", "marker=alpine"},
		"thirdparty": {"id=none", "packages=2", "repositories=@vendor " + host + "/vendor/apk|" + host + "/base/os",
			"keys=base.rsa.pub,vendor-2024.rsa.pub", "marker=thirdparty"},
		"pre013": {"id=none", "packages=1", "repositories=./old/packages", "keys=melange.rsa.pub", "marker=pre-0.13"},
		"empty":  {"id=none", "packages=0", "repositories=", "keys=", "marker=none"},
	}
	for _, n := range corpusNames {
		t.Run(n, func(t *testing.T) {
			got, _ := runImage(t, filepath.Join(c.ws, "bazel-bin", n+"_image")+":latest")
			for _, w := range want[n] {
				if !strings.Contains(got, w+"\n") {
					t.Errorf("%s image output lacks %q; got:\n%s", n, w, got)
				}
			}
		})
	}
}

// checkWolfiSBOM: the Wolfi image's SBOM has the package URLs syft finds.
func (c *lockCorpus) checkWolfiSBOM(t *testing.T) {
	ws := c.ws
	doc := readSPDX(t, filepath.Join(ws, "bazel-bin", "wolfi_image.spdx.json"))
	var ours []string
	for _, p := range doc.Packages {
		for _, r := range p.PackageExternalReferences {
			if r.RefType == "purl" {
				ours = append(ours, r.Locator)
			}
		}
	}
	out := run(t, ws, []string{"SYFT_CHECK_FOR_APP_UPDATE=false"}, tool(t, "syft"), "scan", "oci-dir:"+filepath.Join(ws, "bazel-bin", "wolfi_image"), "-o", "json", "-q")
	var catalog struct{ Artifacts []struct{ Type, PURL string } }
	if err := json.Unmarshal([]byte(out), &catalog); err != nil {
		t.Fatal(err)
	}
	var theirs []string
	for _, a := range catalog.Artifacts {
		if a.Type == "apk" {
			theirs = append(theirs, a.PURL)
		}
	}
	sort.Strings(ours)
	sort.Strings(theirs)
	if len(ours) != c.wolfiPackages || strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
		t.Fatalf("package URLs differ (%d ours, %d syft's):\n  ours:  %v\n  syft:  %v", len(ours), len(theirs), head(ours, 3), head(theirs, 3))
	}
	t.Logf("SBOM and syft agree on %d package URLs, e.g. %s", len(ours), ours[0])
}

// fails builds target and wants it to fail with each of wants, logging the first.
func (c *lockCorpus) fails(t *testing.T, target string, wants ...string) {
	t.Helper()
	out := runFails(t, c.ws, c.env, wants, c.bazel, "build", c.cacheFlag, target)
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, wants[0][:20]); i >= 0 {
			t.Logf("a user reads: %s", l[i:])
			break
		}
	}
}

// variant writes the Alpine lock with its packages[1] changed by edit as NAME.lock.json,
// the hub @NAME of it and //:NAME_image, and returns that package entry; the module and
// the BUILD file are put back by the returned function.
func (c *lockCorpus) variant(name string, edit func(p map[string]any)) (map[string]any, func()) {
	var l map[string]any
	json.Unmarshal(c.locks["alpine"], &l)
	p := l["contents"].(map[string]any)["packages"].([]any)[1].(map[string]any)
	edit(p)
	b, _ := json.Marshal(l)
	c.write(name+".lock.json", string(b))
	c.write("MODULE.bazel", c.module+fmt.Sprintf("apk.translate_lock(name = %q, lock = \"//:%s.lock.json\")\nuse_repo(apk, %q)\n", name, name, name))
	c.write("BUILD.bazel", c.build+fmt.Sprintf("oci_image(name = \"%s_image\", apks = \"@%s\")\n", name, name))
	return p, func() {
		c.write("MODULE.bazel", c.module)
		c.write("BUILD.bazel", c.build)
	}
}

// checkErrors: the errors a user reads for an unsigned lock under require_signatures and
// for broken locks.
func (c *lockCorpus) checkErrors(t *testing.T) {
	t.Helper()
	fails, variant := c.fails, c.variant
	t.Run("require_signatures", func(t *testing.T) {
		fails(t, "//:wolfi_signed_only_image", fmt.Sprintf("require_signatures is set (lock @@//:wolfi.lock.json), but %d of %d packages are not signed:", c.wolfiPackages, c.wolfiPackages)+" wolfi-baselayout-20230201-r7 (x86_64), wolfi-lib000-1.0.0-r0 (x86_64)")
	})
	t.Run("broken lock", func(t *testing.T) {
		_, restore := variant("broken", func(p map[string]any) { p["checksum"] = "Q1" + strings.Repeat("A", 27) + "=" })
		defer restore()
		fails(t, "//:broken_image", "lock @@//:broken.lock.json: package alpine-release (packages[1]): checksum \"Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\" and control checksum")
	})
	// A lock without member ranges (apko before 0.13) at a plain http:// URL: Bazel would
	// download the whole file, which no lock pins, so the extension refuses it by name.
	t.Run("plain http without ranges", func(t *testing.T) {
		p, restore := variant("whole", func(p map[string]any) {
			delete(p, "signature")
			delete(p, "data")
			p["control"].(map[string]any)["range"] = ""
		})
		defer restore()
		fails(t, "//:whole_image", "lock @@//:whole.lock.json: package alpine-release-3.22.2-r0 (x86_64): Bazel downloads plain http:// only with a checksum, and this entry has no control and data ranges with checksums", p["url"].(string))
	})
	// The server's bytes are not the lock's (a package published again under the same name):
	// the fetch fails naming the package and the member, and Bazel's warning gives both
	// checksums. The member's download was started beside the package's others (not
	// blocking); waiting on it fails.
	t.Run("data member not as locked", func(t *testing.T) {
		empty := sha256.Sum256(nil)
		want := "sha256-" + base64.StdEncoding.EncodeToString(empty[:])
		var got string
		p, restore := variant("stale", func(p map[string]any) {
			got = p["data"].(map[string]any)["checksum"].(string)
			p["data"].(map[string]any)["checksum"] = want
		})
		defer restore()
		fails(t, "//:stale_image",
			fmt.Sprintf("package alpine-release-3.22.2-r0 (x86_64) from %s: its data member could not be fetched as the lock pins it (%s): the server is unreachable, or has other bytes there", p["url"], want),
			"Checksum was "+got+" but wanted "+want)
	})
}

func head(l []string, n int) []string {
	if len(l) > n {
		return l[:n]
	}
	return l
}
