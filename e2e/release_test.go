//go:build e2e

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The version the tests release as; its tag directory is v<version>.
const testVersion = "0.0.0-e2e"

// testArchive is the release's source archive, named as the BCR's source template wants.
const testArchive = "rules_wharf-v" + testVersion + ".tar.gz"

var (
	releaseOnce sync.Once
	releaseBin  string
	releaseErr  error
)

// releaseTool builds tools/dev/release once per test binary.
func releaseTool(t *testing.T) string {
	t.Helper()
	releaseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wharf-release-tool-")
		if err != nil {
			releaseErr = err
			return
		}
		releaseBin = filepath.Join(dir, "release")
		cmd := exec.Command("go", "build", "-o", releaseBin, "./tools/dev/release")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			releaseErr = fmt.Errorf("go build ./tools/dev/release: %v\n%s", err, out)
		}
	})
	if releaseErr != nil {
		t.Fatal(releaseErr)
	}
	return releaseBin
}

// hostPlatforms is what the tests release for: the machine's own platform (cross builds of
// every platform cost minutes cold), or WHARF_RELEASE_PLATFORMS.
func hostPlatforms() string {
	if p := os.Getenv("WHARF_RELEASE_PLATFORMS"); p != "" {
		return p
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

// release runs the release tool on this checkout (uncommitted changes included) into out.
func release(t *testing.T, out string, env ...string) {
	t.Helper()
	run(t, repoRoot(t), env, releaseTool(t), "-version", testVersion, "-out", out, "-platforms", hostPlatforms(), "-allow-dirty")
}

// readTree maps every file below dir to its bytes.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestReleaseReproducible releases twice, with another umask and time zone, and wants the
// same bytes in every artifact; SHA256SUMS must list each of them correctly.
func TestReleaseReproducible(t *testing.T) {
	one, two := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "two")
	release(t, one)
	old := syscall.Umask(0o077)
	release(t, two, "TZ=Pacific/Kiritimati")
	syscall.Umask(old)
	a, b := readTree(t, one), readTree(t, two)
	names := make([]string, 0, len(a))
	for n := range a {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(a) != len(b) {
		t.Fatalf("first release has %d files, second %d", len(a), len(b))
	}
	for _, n := range names {
		if !bytes.Equal(a[n], b[n]) {
			t.Errorf("%s differs between two releases of the same checkout", n)
		}
	}
	var sums strings.Builder
	for _, n := range names {
		if n != "SHA256SUMS" {
			fmt.Fprintf(&sums, "%s  %s\n", strings.TrimPrefix(sha256Hex(string(a[n])), "sha256:"), n)
		}
	}
	if got := string(a["SHA256SUMS"]); got != sums.String() {
		t.Errorf("SHA256SUMS:\n%s\nwant:\n%s", got, sums.String())
	}
	want := []string{"SHA256SUMS", testArchive, "versions.bzl"}
	for _, p := range strings.Split(hostPlatforms(), ",") {
		goos, goarch, _ := strings.Cut(p, "/")
		name := "wharf-" + goos + "-" + goarch
		if goos == "windows" {
			name += ".exe"
		}
		want = append(want, name)
	}
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("release files %q, want %q", names, want)
	}
	bin := filepath.Join(one, "wharf-"+runtime.GOOS+"-"+runtime.GOARCH)
	if _, err := os.Stat(bin); err == nil {
		if got := run(t, "/", nil, bin, "version"); got != "" {
			t.Errorf("wharf version wrote %q to stdout; verbs write to stderr", got)
		}
		cmd := exec.Command(bin, "version")
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != "wharf "+testVersion+"\n" {
			t.Errorf("wharf version: %q, %v; want %q", out, err, "wharf "+testVersion+"\n")
		}
	}
	t.Logf("release %s for %s: %d files, identical twice", testVersion, hostPlatforms(), len(names))
}

// TestReleaseRefusesCheckout: a checkout with uncommitted changes, a symbolic link out of
// the repository (one inside it stays a link) or a submodule gives no release and an error
// naming the file.
func TestReleaseRefusesCheckout(t *testing.T) {
	git := func(dir string, args ...string) {
		t.Helper()
		run(t, dir, nil, "git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	}
	for _, tc := range []struct {
		name, want string
		setup      func(dir string)
	}{
		{"dirty", "has uncommitted changes to tracked files (commit them; the archive must be a commit):\n M a.txt", func(dir string) {
			os.WriteFile(filepath.Join(dir, "a.txt"), []byte("changed"), 0o644)
		}},
		{"symlink", "link: a symbolic link to ../a.txt, outside the repository, cannot go into the source archive", func(dir string) {
			os.Symlink("../a.txt", filepath.Join(dir, "link"))
			git(dir, "add", "link")
			git(dir, "commit", "-q", "-m", "link")
		}},
		{"submodule", "sub: git mode 160000 (a submodule) cannot go into the source archive", func(dir string) {
			head := strings.TrimSpace(run(t, dir, nil, "git", "rev-parse", "HEAD"))
			os.Mkdir(filepath.Join(dir, "sub"), 0o755) // an uninitialised submodule's directory
			git(dir, "update-index", "--add", "--cacheinfo", "160000,"+head+",sub")
			git(dir, "commit", "-q", "-m", "sub")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			git(dir, "init", "-q")
			os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
			git(dir, "add", "a.txt")
			git(dir, "commit", "-q", "-m", "a")
			tc.setup(dir)
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(releaseTool(t), "-version", "1.0.0", "-out", out, "-root", dir)
			msg, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(msg), tc.want) {
				t.Fatalf("release of a %s checkout: %v\n%s\nwant it to say: %s", tc.name, err, msg, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("a refused release left %s: %v", out, err)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".release-*")); len(left) != 0 {
				t.Fatalf("a refused release left %v", left)
			}
		})
	}
}

// releaseDep is a bazel_dep on module, taken from the release's source archive below
// dir (the archive's top directory, or a subdirectory for rules_wharf_tools) as the
// registry's entry for that module would give it.
func releaseDep(module, dir, archiveURL, integrity string) string {
	return fmt.Sprintf(`bazel_dep(name = %q, version = "0.0.0")
archive_override(
    module_name = %q,
    integrity = %q,
    strip_prefix = %q,
    urls = [%q],
)
`, module, module, integrity, path.Join("rules_wharf-"+testVersion, dir), archiveURL)
}

// prebuiltModule is a consumer's MODULE.bazel with rules_wharf from the release's source
// archive, as a user's module from the registry would get it: no rules_go, no Go SDK.
func prebuiltModule(name, archiveURL, integrity, toolchainTag string) string {
	return fmt.Sprintf(`module(name = %q)

%s
wharf = use_extension("@rules_wharf//toolchain:extensions.bzl", "wharf")
%s

apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "base", lock = "//:apko.lock.json")
use_repo(apk, "base")
`, name, releaseDep("rules_wharf", "", archiveURL, integrity), toolchainTag)
}

// externalRepos lists the repositories Bazel fetched into the output base of ws.
func externalRepos(t *testing.T, ws string, env []string, bazel string) (string, []string) {
	t.Helper()
	ext := filepath.Join(strings.TrimSpace(run(t, ws, env, bazel, "info", "output_base")), "external")
	entries, err := os.ReadDir(ext)
	if err != nil {
		t.Fatal(err)
	}
	var repos []string
	for _, e := range entries {
		// Directories, and links to local_path modules of the offline registry.
		if !strings.HasSuffix(e.Name(), ".marker") {
			repos = append(repos, e.Name())
		}
	}
	return ext, repos
}

// TestPrebuiltToolchain is a user's module on a release: rules_wharf's source archive and
// the prebuilt wharf come from a local server (the toolchain extension's base_url), and
// the module has no rules_go and no Go SDK. It builds and runs an image, Bazel fetches no
// Go SDK, no Go dependency, no rules_go, gazelle or rules_wharf_tools repository, and the
// digest equals the same module's built from source (rules_wharf_tools from the same
// archive, wharf.toolchain(from_source = True)).
func TestPrebuiltToolchain(t *testing.T) {
	root := repoRoot(t)
	p := servePrebuilt(t, root)
	defer p.srv.Close()
	env, bazel := p.env, p.bazel

	// A clean start: the output base of a fixed directory survives runs.
	ws := p.consumer(t, "e2e-prebuilt", prebuiltModule("prebuilt", p.archiveURL, p.integrity, `wharf.toolchain(base_url = "`+p.srv.URL+`")`))
	run(t, ws, env, bazel, "clean", "--expunge")

	// The tool is one for the build: two tags in the root module are refused, naming it.
	good := readFile(t, filepath.Join(ws, "MODULE.bazel"))
	writer(t, ws)("MODULE.bazel", good+"wharf.toolchain(from_source = True)\n")
	runFails(t, ws, env, []string{"wharf.toolchain: the root module prebuilt sets it 2 times; set it once"}, bazel, "build", "//:image")
	writer(t, ws)("MODULE.bazel", good)
	run(t, ws, env, bazel, "build", "--output_groups=+layout", "//:image")
	prebuiltDigest := readFile(t, filepath.Join(ws, "bazel-bin", "image.digest"))
	got, _ := runImage(t, filepath.Join(ws, "bazel-bin", "image")+":latest")
	for _, w := range wantOutput {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("image output lacks %q; got:\n%s", w, got)
		}
	}
	tool, toolPath := p.checkPrebuiltFetched(t, ws)
	p.checkWorkspaceConsumer(t, ws, prebuiltDigest, toolPath)

	// The same module, built from source: rules_wharf_tools from the same archive (as the
	// registry's entry for it would give it), and a Go SDK (offline: the host's).
	ws = p.consumer(t, "e2e-prebuilt-source", prebuiltModule("from_source", p.archiveURL, p.integrity, "wharf.toolchain(from_source = True)")+"\n"+
		releaseDep("rules_wharf_tools", "tools", p.archiveURL, p.integrity)+`
bazel_dep(name = "rules_go", version = "0.60.0")

go_sdk = use_extension("@rules_go//go:extensions.bzl", "go_sdk")
go_sdk.host()

# Offline only: no protobuf toolchain here.
bazel_dep(name = "gazelle", version = "0.43.0")

go_deps = use_extension("@gazelle//:extensions.bzl", "go_deps")
go_deps.gazelle_default_attributes(directives = ["gazelle:proto disable"])
`)
	defer run(t, ws, env, bazel, "shutdown")
	run(t, ws, env, bazel, "build", "//:image")
	sourceDigest := readFile(t, filepath.Join(ws, "bazel-bin", "image.digest"))
	if _, repos := externalRepos(t, ws, env, bazel); slices.Contains(repos, "rules_wharf~~wharf~"+tool) {
		t.Errorf("from_source = True still fetched a prebuilt tool: %v", repos)
	}
	if prebuiltDigest != sourceDigest {
		t.Fatalf("prebuilt tool gave %s, from source %s", prebuiltDigest, sourceDigest)
	}
	t.Logf("prebuilt and from-source tools give %s", prebuiltDigest)
}

// A prebuilt is a release served over http, counting requests by path, and what the
// consumers of TestPrebuiltToolchain share: the image's program, built once outside Bazel
// (both modules get the same bytes), and the example lock with file:// URLs.
type prebuilt struct {
	srv                   *httptest.Server
	archiveURL, integrity string
	hello                 []byte
	lock, bazel           string
	env                   []string
	mu                    sync.Mutex
	requests              map[string]int
}

// servePrebuilt makes the release and serves it.
func servePrebuilt(t *testing.T, root string) *prebuilt {
	t.Helper()
	p := &prebuilt{bazel: filepath.Join(root, "tools", "bazel"), env: []string{"WHARF_BIND=" + root}, requests: map[string]int{}}
	serve := t.TempDir()
	release(t, filepath.Join(serve, "v"+testVersion))
	files := http.FileServer(http.Dir(serve))
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests[r.URL.Path]++
		p.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	archive, err := os.ReadFile(filepath.Join(serve, "v"+testVersion, testArchive))
	if err != nil {
		p.srv.Close()
		t.Fatal(err)
	}
	sum := sha256.Sum256(archive)
	p.integrity = "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	p.archiveURL = p.srv.URL + "/v" + testVersion + "/" + testArchive
	hello := filepath.Join(t.TempDir(), "hello")
	goBuild := exec.Command("go", "build", "-trimpath", "-o", hello, "./examples/hello")
	goBuild.Dir = root
	goBuild.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := goBuild.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/hello: %v\n%s", err, out)
	}
	p.hello, _ = os.ReadFile(hello)
	lockBytes, err := os.ReadFile(filepath.Join(root, "examples", "hello_image", "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	p.lock = strings.ReplaceAll(string(lockBytes), `"../apk_repo/`, `"file://`+filepath.Join(root, "examples", "apk_repo")+"/")
	return p
}

// requestCount is how many requests the server had for path.
func (p *prebuilt) requestCount(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[path]
}

// requestsNow is a copy of the server's request counts.
func (p *prebuilt) requestsNow() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.requests)
}

// consumer writes a fresh module in cacheDir()/dir that builds the image from the lock and
// the program, with its own repository cache, and returns it.
func (p *prebuilt) consumer(t *testing.T, dir, module string) string {
	t.Helper()
	ws := filepath.Join(cacheDir(), dir)
	os.RemoveAll(ws)
	write := writer(t, ws)
	write("MODULE.bazel", module)
	write("apko.lock.json", p.lock)
	write("hello", string(p.hello))
	write("BUILD.bazel", `load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_layer")

oci_layer(name = "app", files = {":hello": "/usr/bin/hello"}, modes = {"/usr/bin/hello": "0755"})

oci_image(
    name = "image",
    apks = "@base",
    cmd = ["from-cmd"],
    entrypoint = ["/usr/bin/hello"],
    env = {"GREETING_STYLE": "friendly"},
    layers = [":app"],
    user = "65532:65532",
)
`)
	// A repository cache of its own: the shared one may hold the archive and the tool
	// by checksum from an earlier run, and the server would see no request.
	write(".bazelrc", "common --lockfile_mode=off\ncommon --repository_cache="+filepath.Join(ws, "repository-cache")+"\n")
	return ws
}

// checkPrebuiltFetched: the build with the prebuilt tool fetched the tool (once, with the
// archive once) and no rules_go, gazelle, rules_wharf_tools or Go SDK; it returns the
// tool's repository suffix and path on the server.
func (p *prebuilt) checkPrebuiltFetched(t *testing.T, ws string) (tool, toolPath string) {
	t.Helper()
	ext, repos := externalRepos(t, ws, p.env, p.bazel)
	run(t, ws, p.env, p.bazel, "shutdown")
	t.Logf("repositories fetched with the prebuilt tool:\n  %s", strings.Join(repos, "\n  "))
	tool = "wharf_" + runtime.GOOS + "_" + runtime.GOARCH
	var sawTool bool
	for _, r := range repos {
		switch {
		case r == "rules_wharf~~wharf~"+tool:
			sawTool = true
		case strings.HasPrefix(r, "rules_go~"), strings.HasPrefix(r, "gazelle~"), strings.HasPrefix(r, "rules_wharf_tools~"):
			t.Errorf("the prebuilt tool's build fetched %s", r)
		}
		// A Go SDK, under any name, has bin/go.
		for _, goBin := range []string{"bin/go", "bin/go.exe"} {
			if _, err := os.Stat(filepath.Join(ext, r, goBin)); err == nil {
				t.Errorf("the prebuilt tool's build fetched a Go SDK: %s", filepath.Join(ext, r))
			}
		}
	}
	if !sawTool {
		t.Fatalf("no repository rules_wharf~~wharf~%s: the prebuilt tool was not used", tool)
	}
	if v, err := exec.Command(filepath.Join(ext, "rules_wharf~~wharf~"+tool, "wharf"), "version").CombinedOutput(); err != nil || string(v) != "wharf "+testVersion+"\n" {
		t.Errorf("the downloaded wharf says %q (%v), want wharf %s", v, err, testVersion)
	}
	toolPath = "/v" + testVersion + "/wharf-" + runtime.GOOS + "-" + runtime.GOARCH
	if p.requestCount(toolPath) != 1 || p.requestCount("/v"+testVersion+"/"+testArchive) != 1 {
		t.Errorf("server requests %v; want the archive and %s once each", p.requestsNow(), toolPath)
	}
	return tool, toolPath
}

// checkWorkspaceConsumer: a WORKSPACE consumer of the same release:
// rules_wharf_prebuilt_toolchains downloads the tool as the extension does and the image
// (the BUILD file of ws) is the same.
func (p *prebuilt) checkWorkspaceConsumer(t *testing.T, ws, prebuiltDigest, toolPath string) {
	t.Helper()
	wsDir := filepath.Join(cacheDir(), "e2e-prebuilt-workspace")
	os.RemoveAll(wsDir)
	writeWS := writer(t, wsDir)
	writeWS("WORKSPACE", fmt.Sprintf(`workspace(name = "prebuilt_workspace")

load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")

http_archive(
    name = "rules_wharf",
    integrity = %q,
    strip_prefix = "rules_wharf-%s",
    urls = [%q],
)
`, p.integrity, testVersion, p.archiveURL)+workspaceOffline+fmt.Sprintf(`
load("@rules_wharf//:repositories.bzl", "rules_wharf_dependencies", "rules_wharf_prebuilt_toolchains")

rules_wharf_dependencies()

rules_wharf_prebuilt_toolchains(base_url = %q)

load("@rules_wharf//apk:repositories.bzl", "translate_lock")

translate_lock(name = "base", lock = "//:apko.lock.json")

load("@base//:repositories.bzl", base_repositories = "apk_repositories")

base_repositories()
`, p.srv.URL))
	writeWS("apko.lock.json", p.lock)
	writeWS("hello", string(p.hello))
	writeWS("BUILD.bazel", readFile(t, filepath.Join(ws, "BUILD.bazel"))+"\nexports_files([\"apko.lock.json\"])\n")
	writeWS(".bazelrc", workspaceRC+"common --repository_cache="+filepath.Join(wsDir, "repository-cache")+"\n")
	run(t, wsDir, p.env, p.bazel, "--nosystem_rc", "build", "--config=workspace", "//:image")
	run(t, wsDir, p.env, p.bazel, "shutdown")
	if got := readFile(t, filepath.Join(wsDir, "bazel-bin", "image.digest")); got != prebuiltDigest {
		t.Fatalf("WORKSPACE consumer of the release gave %s, the bzlmod one %s", got, prebuiltDigest)
	}
	if p.requestCount(toolPath) != 2 {
		t.Errorf("the WORKSPACE build did not download the tool from the release (requests %v)", p.requestsNow())
	}
	t.Logf("WORKSPACE consumer with rules_wharf_prebuilt_toolchains: %s, the tool downloaded", prebuiltDigest)
}
