//go:build e2e

package e2e

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The e2e test binary is also the credential helpers of TestAuthenticatedSources: linked as
// docker-credential-wharfe2e it speaks Docker's protocol, linked as
// wharf-bazel-credential-helper Bazel's. Both read creds.json beside the link and append
// what they were asked to requests.log there.
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "docker-credential-wharfe2e", "wharf-bazel-credential-helper":
		os.Exit(credentialHelper(filepath.Base(os.Args[0])))
	}
	os.Exit(m.Run())
}

type helperCreds struct{ Host, User, Pass string }

func credentialHelper(kind string) int {
	dir := filepath.Dir(os.Args[0])
	var c helperCreds
	b, err := os.ReadFile(filepath.Join(dir, "creds.json"))
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || len(os.Args) != 2 || os.Args[1] != "get" {
		fmt.Fprintln(os.Stderr, "usage: helper get (with creds.json beside it):", err)
		return 2
	}
	in, _ := io.ReadAll(os.Stdin)
	logf := func(s string) {
		f, _ := os.OpenFile(filepath.Join(dir, "requests.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		fmt.Fprintln(f, s)
		f.Close()
	}
	if kind == "docker-credential-wharfe2e" {
		server := strings.TrimSpace(string(in))
		logf("docker " + server)
		// Hosts that show what a user reads when a helper misbehaves.
		switch server {
		case "failing.invalid:5000":
			fmt.Fprintln(os.Stderr, "wharfe2e: no account for failing.invalid:5000 at https://robot:vault-s3cret@vault.invalid/v1")
			return 3
		case "token.invalid:5000":
			json.NewEncoder(os.Stdout).Encode(map[string]string{"ServerURL": server, "Username": "<token>", "Secret": "refresh-s3cret"})
			return 0
		case "garbage.invalid:5000":
			fmt.Println("garbage-s3cret")
			return 0
		case "hang.invalid:5000":
			time.Sleep(time.Hour) // stopped at the helpers' limit
		}
		if server != c.Host {
			fmt.Println("credentials not found in native keychain")
			return 1
		}
		json.NewEncoder(os.Stdout).Encode(map[string]string{"ServerURL": server, "Username": c.User, "Secret": c.Pass})
		return 0
	}
	var req struct{ URI string }
	if err := json.Unmarshal(in, &req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	logf("bazel " + req.URI)
	headers := map[string][]string{}
	if u, err := url.Parse(req.URI); err == nil && u.Host == c.Host {
		headers["Authorization"] = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(c.User+":"+c.Pass))}
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"headers": headers})
	return 0
}

// randomImage is a small linux/amd64 image with random layers.
func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func pushImage(t *testing.T, ref string, img v1.Image, auth authn.Authenticator) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithAuth(auth)); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func helperLog(t *testing.T, dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "requests.log"))
	os.Remove(filepath.Join(dir, "requests.log"))
	return string(b)
}

// TestAuthenticatedSources pulls with oci.pull from a registry behind htpasswd whose
// credentials exist only in a credHelpers entry (a docker-credential-* program) or only in
// a Bazel --credential_helper; moves the pulled tag and wants the warning; and fetches the
// example packages from an APK repository behind basic auth with credentials in $NETRC.
// It fetches repositories only (`bazel fetch`): building on them is TestPullByDigest's and
// TestConsumerModule's.
func TestAuthenticatedSources(t *testing.T) {
	root := repoRoot(t)
	const user, pass = "wharf", "s3cret-pw"
	addr := htpasswdRegistry(t, user, pass)
	repo := addr + "/wharf/auth"
	basicAuth := &authn.Basic{Username: user, Password: pass}
	digestA := pushImage(t, repo+":t1", randomImage(t), basicAuth)
	helpers := installHelpers(t, addr, user, pass)

	// An APK repository behind basic auth: the example packages.
	apkRepo := filepath.Join(root, "examples", "apk_repo")
	var apkAuthed, apkRefused atomic.Int64
	files := http.FileServer(http.Dir(apkRepo))
	apkSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			apkRefused.Add(1)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		apkAuthed.Add(1)
		files.ServeHTTP(w, r)
	}))
	defer apkSrv.Close()

	a := &authWorkspace{ws: filepath.Join(cacheDir(), "e2e-auth"), bazel: filepath.Join(root, "tools", "bazel"),
		helpers: helpers, addr: addr, repo: repo}
	os.RemoveAll(a.ws)
	writeAuthWorkspace(t, a.ws, root, addr, repo, digestA, authedLock(t, root, apkRepo, apkSrv.URL), user, pass)
	// Bazel's repository rules look docker-credential-* up on the client's PATH; in
	// tools/bazel's chroot that is a fixed list, which WHARF_PASS_ENV replaces.
	a.env = []string{"WHARF_BIND=" + root + " " + helpers, "WHARF_PASS_ENV=PATH NETRC",
		"PATH=" + helpers + string(os.PathListSeparator) + "/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	defer run(t, a.ws, a.env, a.bazel, "shutdown")

	checkDockerHelperPull(t, a, digestA, basicAuth)
	checkBazelHelperPull(t, a, digestA)
	checkPullErrors(t, a)
	checkAPKsWithNetrc(t, a, &apkAuthed, &apkRefused)
}

// An authWorkspace is TestAuthenticatedSources' module: where it is, the Bazel that runs
// it, the environment, the helpers' directory and the registry.
type authWorkspace struct {
	ws, bazel, helpers, addr, repo string
	env                            []string
}

// cache is the flag of repository cache n (a fresh one: nothing fetched before).
func (a *authWorkspace) cache(n string) string {
	return "--repository_cache=" + filepath.Join(a.ws, "repository-cache-"+n)
}

// dockerConfig is the flag that points the repository rules at the Docker config dir.
func (a *authWorkspace) dockerConfig(dir string) string {
	return "--repo_env=DOCKER_CONFIG=" + filepath.Join(a.ws, dir)
}

// htpasswdRegistry starts a registry behind htpasswd with one account and returns its address.
func htpasswdRegistry(t *testing.T, user, pass string) string {
	t.Helper()
	htpasswd := tool(t, "htpasswd")
	regDir := t.TempDir()
	hash := run(t, regDir, nil, htpasswd, "-Bbn", user, pass)
	if err := os.WriteFile(filepath.Join(regDir, "htpasswd"), []byte(hash), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := startRegistryConfig(t, fmt.Sprintf("auth: {htpasswd: {realm: wharf, path: %s}}\n", filepath.Join(regDir, "htpasswd")))
	if resp, err := http.Get("http://" + addr + "/v2/"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the htpasswd registry answers /v2/ without credentials with %v %v; want 401", resp, err)
	}
	return addr
}

// installHelpers returns a directory of the helpers: this test binary, copied under their
// names (copied, not linked: tools/bazel may run Bazel in a chroot that sees only this
// directory, bound in by WHARF_BIND), with the account for addr in creds.json.
func installHelpers(t *testing.T, addr, user, pass string) string {
	t.Helper()
	helpers := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	selfBytes, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"docker-credential-wharfe2e", "wharf-bazel-credential-helper"} {
		if err := os.WriteFile(filepath.Join(helpers, n), selfBytes, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	creds, _ := json.Marshal(helperCreds{Host: addr, User: user, Pass: pass})
	os.WriteFile(filepath.Join(helpers, "creds.json"), creds, 0o600)
	return helpers
}

// authedLock is examples/hello_image's lock with its packages at srvURL and its keys read
// from apkRepo.
func authedLock(t *testing.T, root, apkRepo, srvURL string) []byte {
	t.Helper()
	lockBytes, err := os.ReadFile(filepath.Join(root, "examples", "hello_image", "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock map[string]any
	json.Unmarshal(lockBytes, &lock)
	contents := lock["contents"].(map[string]any)
	for _, k := range contents["keyring"].([]any) {
		k.(map[string]any)["url"] = "file://" + apkRepo + "/" + strings.TrimPrefix(k.(map[string]any)["url"].(string), "../apk_repo/")
	}
	for _, p := range contents["packages"].([]any) {
		p.(map[string]any)["url"] = srvURL + "/" + strings.TrimPrefix(p.(map[string]any)["url"].(string), "../apk_repo/")
	}
	lockJSON, _ := json.MarshalIndent(lock, "", "  ")

	return lockJSON
}

// writeAuthWorkspace writes the module: its pulls (two that work, the others each a wrong
// helper or tag), the APK hub of lockJSON, and the Docker configs and netrc the steps use.
func writeAuthWorkspace(t *testing.T, ws, root, addr, repo, digestA string, lockJSON []byte, user, pass string) {
	t.Helper()
	write := writer(t, ws)
	write("MODULE.bazel", consumerModule("consumer", root)+fmt.Sprintf(`
oci = use_extension("@rules_wharf//oci:extensions.bzl", "oci")
oci.pull(name = "via_docker_helper", image = %[1]q, tag = "t1", digest = %[2]q)
oci.pull(name = "via_bazel_helper", image = %[1]q, digest = %[2]q)
oci.pull(name = "err_missing_helper", image = "missing.invalid:5000/x", digest = %[2]q)
oci.pull(name = "err_failing_helper", image = "failing.invalid:5000/x", digest = %[2]q)
oci.pull(name = "err_token_helper", image = "token.invalid:5000/x", digest = %[2]q)
oci.pull(name = "err_garbage_helper", image = "garbage.invalid:5000/x", digest = %[2]q)
oci.pull(name = "err_hang_helper", image = "hang.invalid:5000/x", digest = %[2]q)
oci.pull(name = "err_bad_tag", image = %[1]q, tag = "-t1", digest = %[2]q)
oci.pull(name = "err_two_tags", image = "%[1]s:t1", tag = "t2", digest = %[2]q)
oci.pull(name = "err_tag_only", image = %[1]q, tag = "t1")
use_repo(oci, "err_bad_tag", "err_failing_helper", "err_garbage_helper", "err_hang_helper", "err_missing_helper", "err_tag_only", "err_token_helper", "err_two_tags", "via_bazel_helper", "via_docker_helper")

apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "apk_authed", lock = "//:http.lock.json")
use_repo(apk, "apk_authed")
`, repo, digestA))
	write("BUILD.bazel", "")
	write("http.lock.json", string(lockJSON))
	write("docker/config.json", fmt.Sprintf(`{"credHelpers": {%q: "wharfe2e", "missing.invalid:5000": "wharf-missing",
  "failing.invalid:5000": "wharfe2e", "token.invalid:5000": "wharfe2e", "garbage.invalid:5000": "wharfe2e", "hang.invalid:5000": "wharfe2e"}}`, addr))
	write("empty-docker/config.json", "{}")
	write("bad-docker/config.json", fmt.Sprintf(`{"auths": {%q: {"auth": "s3cret"}, oops}}`, addr))
	write("netrc", fmt.Sprintf("machine 127.0.0.1 login %s password %s\n", user, pass))
	write(".bazelrc", "common --lockfile_mode=off\n")
}

// checkDockerHelperPull: with credentials only in credHelpers the pull works and the tag
// still names the digest; then the tag moves: the next fetch warns and still pulls the
// pinned digest.
func checkDockerHelperPull(t *testing.T, a *authWorkspace, digestA string, basicAuth authn.Authenticator) {
	t.Helper()
	ws, env, bazel, helpers, addr, repo := a.ws, a.env, a.bazel, a.helpers, a.addr, a.repo
	cache, dockerCfg := a.cache, a.dockerConfig("docker")
	// Credentials only in credHelpers: the pull works, and the tag still names the digest.
	stderr, ok := bazelOutput(t, ws, env, bazel, "fetch", cache("1"), dockerCfg, "--repo=@via_docker_helper")
	if !ok {
		t.Fatalf("oci.pull with credHelpers credentials failed:\n%s", tail(stderr, 3000))
	}
	if log := helperLog(t, helpers); !strings.Contains(log, "docker "+addr+"\n") {
		t.Fatalf("docker-credential-wharfe2e was asked %q; want %s", log, addr)
	}
	if strings.Contains(stderr, "WARNING: oci_pull via_docker_helper") {
		t.Fatalf("a tag check warning while the tag names the digest:\n%s", tail(stderr, 3000))
	}

	// The tag moves: the next fetch warns, naming the new digest, and still pulls the pinned one.
	digestB := pushImage(t, repo+":t1", randomImage(t), basicAuth)
	t.Logf("tag t1 moved from %s to %s", digestA, digestB)
	stderr, ok = bazelOutput(t, ws, env, bazel, "fetch", "--force", cache("1"), dockerCfg, "--repo=@via_docker_helper")
	// A plain-http registry: Bazel downloads only with a checksum, so the tag is found moved
	// (or deleted) without learning its new digest (https: the warning names it).
	want := fmt.Sprintf("WARNING: oci_pull via_docker_helper: tag %s:t1 no longer names the pinned digest %s (it was moved or deleted); the pinned digest is pulled. `crane digest %s:t1` gives the tag's digest now.", repo, digestA, repo)
	if !ok || !strings.Contains(stderr, want) {
		t.Fatalf("after moving the tag (ok=%v), stderr lacks %q:\n%s", ok, want, tail(stderr, 3000))
	}
	t.Logf("moved tag: %s", want)
}

// checkBazelHelperPull: with credentials only in a Bazel credential helper the pull is
// refused without it, and pulled with it; a malformed Docker config is named in the refusal
// and fails no pull that has credentials elsewhere.
func checkBazelHelperPull(t *testing.T, a *authWorkspace, digestA string) {
	t.Helper()
	ws, env, bazel, helpers, addr, repo := a.ws, a.env, a.bazel, a.helpers, a.addr, a.repo
	cache, emptyCfg := a.cache, a.dockerConfig("empty-docker")
	// Credentials only in a Bazel credential helper: refused without it, pulled with it.
	stderr, ok := bazelOutput(t, ws, env, bazel, "fetch", cache("2"), emptyCfg, "--repo=@via_bazel_helper")
	if ok || !strings.Contains(stderr, "oci_pull via_bazel_helper: could not fetch the manifest of "+repo+"@"+digestA) || !strings.Contains(stderr, "wants credentials") {
		t.Fatalf("oci.pull without credentials (ok=%v):\n%s", ok, tail(stderr, 3000))
	}
	// A Docker config that is not JSON: the refusal names it as the reason none of its
	// credentials were sent (#26 item 14). Before any helper: Bazel keeps their answers.
	badCfg := filepath.Join(ws, "bad-docker")
	stderr, ok = bazelOutput(t, ws, env, bazel, "fetch", "--force", cache("6"), "--repo_env=DOCKER_CONFIG="+badCfg, "--repo=@via_bazel_helper")
	want := "wants credentials (~/.docker/config.json or $DOCKER_CONFIG, a bearer token realm: token_realm) (none of the Docker config's credentials were used: " + filepath.Join(badCfg, "config.json") + " is not valid JSON), or is unreachable"
	if ok || !strings.Contains(stderr, want) {
		t.Fatalf("oci.pull refused with a malformed Docker config (ok=%v) lacks %q:\n%s", ok, want, tail(stderr, 3000))
	}
	stderr, ok = bazelOutput(t, ws, env, bazel, "fetch", cache("3"), emptyCfg, "--credential_helper="+filepath.Join(helpers, "wharf-bazel-credential-helper"), "--repo=@via_bazel_helper")
	if !ok {
		t.Fatalf("oci.pull with a Bazel credential helper failed:\n%s", tail(stderr, 3000))
	}
	if log := helperLog(t, helpers); !strings.Contains(log, "bazel http://"+repo+"/v2/wharf/auth/manifests/"+digestA) && !strings.Contains(log, "bazel http://"+addr+"/v2/wharf/auth/manifests/"+digestA) {
		t.Fatalf("the Bazel credential helper was asked %q", log)
	}

	// That config fails no pull that has credentials elsewhere.
	stderr, ok = bazelOutput(t, ws, env, bazel, "fetch", "--force", cache("7"), "--repo_env=DOCKER_CONFIG="+badCfg, "--credential_helper="+filepath.Join(helpers, "wharf-bazel-credential-helper"), "--repo=@via_bazel_helper")
	if !ok {
		t.Fatalf("oci.pull with a Bazel credential helper and a malformed Docker config failed:\n%s", tail(stderr, 3000))
	}

}

// checkPullErrors: what users read when a helper or the tag is wrong: one fetch, every
// repository; a helper that never answers is stopped at the limit
// ($WHARF_CREDENTIAL_HELPER_TIMEOUT).
func checkPullErrors(t *testing.T, a *authWorkspace) {
	t.Helper()
	ws, env, bazel, helpers, repo := a.ws, a.env, a.bazel, a.helpers, a.repo
	cache, dockerCfg := a.cache, a.dockerConfig("docker")
	cfgPath := filepath.Join(ws, "docker", "config.json")
	limitEnv := append(append([]string{}, env...), "WHARF_PASS_ENV=PATH NETRC WHARF_CREDENTIAL_HELPER_TIMEOUT", "WHARF_CREDENTIAL_HELPER_TIMEOUT=2")
	stderr, ok := bazelOutput(t, ws, limitEnv, bazel, "fetch", "--keep_going", cache("1"), dockerCfg, "--repo=@err_missing_helper", "--repo=@err_failing_helper",
		"--repo=@err_token_helper", "--repo=@err_garbage_helper", "--repo=@err_hang_helper", "--repo=@err_bad_tag", "--repo=@err_two_tags", "--repo=@err_tag_only")
	for _, w := range []string{
		"oci_pull err_missing_helper: " + cfgPath + " credHelpers[missing.invalid:5000]: docker-credential-wharf-missing is not on PATH (as Bazel's repository rules see it; --repo_env=PATH=... changes it)",
		"oci_pull err_failing_helper: " + cfgPath + " credHelpers[failing.invalid:5000]: `docker-credential-wharfe2e get` for failing.invalid:5000 failed (exit code 3): wharfe2e: no account for failing.invalid:5000 at https://robot:***@vault.invalid/v1",
		"oci_pull err_token_helper: " + cfgPath + " credHelpers[token.invalid:5000]: docker-credential-wharfe2e gives an identity (OAuth2 refresh) token for token.invalid:5000, which oci_pull cannot exchange (Bazel's downloader only GETs); use a Bazel --credential_helper for this registry, or credentials in `auths`",
		"oci_pull err_garbage_helper: " + cfgPath + " credHelpers[garbage.invalid:5000]: `docker-credential-wharfe2e get` for garbage.invalid:5000 did not print {\"Username\": ..., \"Secret\": ...}",
		"oci_pull err_hang_helper: " + cfgPath + " credHelpers[hang.invalid:5000]: `docker-credential-wharfe2e get` for hang.invalid:5000 gave no answer within 2s: stopped ($WHARF_CREDENTIAL_HELPER_TIMEOUT sets the limit in seconds)",
		"oci_pull err_bad_tag: image " + repo + ": tag \"-t1\" is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]*, at most 128 characters)",
		"oci_pull err_two_tags: image " + repo + ":t1 names tag t1, but tag = t2",
		"oci_pull err_tag_only: image " + repo + " has a tag (t1) and no digest; oci_pull pulls by digest only: give digest = \"sha256:...\" beside the tag (get it with `crane digest " + repo + ":t1`)",
	} {
		if !strings.Contains(stderr, w) {
			t.Errorf("fetch errors lack %q", w)
		}
	}
	if ok || strings.Contains(stderr, "s3cret") {
		t.Errorf("the failing fetches (ok=%v) or a secret in their output:\n%s", ok, tail(stderr, 6000))
	}
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "Error in fail: ") {
			t.Log(l)
		}
	}
	helperLog(t, helpers)

}

// checkAPKsWithNetrc: APK packages behind basic auth, credentials from $NETRC. The hub names
// the package repositories; each is fetched (ranged, checksummed downloads with the
// credentials). Without the netrc, or with a $NETRC that does not exist, they are refused.
func checkAPKsWithNetrc(t *testing.T, a *authWorkspace, apkAuthed, apkRefused *atomic.Int64) {
	t.Helper()
	ws, env, bazel, cache := a.ws, a.env, a.bazel, a.cache
	netrcEnv := append(append([]string{}, env...), "NETRC="+filepath.Join(ws, "netrc"))
	run(t, ws, netrcEnv, bazel, "fetch", cache("4"), "--repo=@apk_authed")
	base := strings.TrimSpace(run(t, ws, netrcEnv, bazel, "info", "output_base"))
	hubs, _ := filepath.Glob(filepath.Join(base, "external", "*apk_authed", "BUILD.bazel"))
	if len(hubs) != 1 {
		t.Fatalf("hub repository BUILD files: %v", hubs)
	}
	hub, _ := os.ReadFile(hubs[0])
	// The hub names them by apparent name (@apk_<arch>_<name>//<content>:pkg); the canonical
	// one has the hub's prefix.
	prefix := strings.TrimSuffix(filepath.Base(filepath.Dir(hubs[0])), "apk_authed")
	var pkgRepos []string
	for _, m := range regexp.MustCompile(`"@([^@/"]+)//[^:"]+:pkg"`).FindAllStringSubmatch(string(hub), -1) {
		pkgRepos = append(pkgRepos, "--repo=@@"+prefix+m[1])
	}
	if len(pkgRepos) != 6 {
		t.Fatalf("hub names package repositories %v; want the 3 example packages for 2 architectures", pkgRepos)
	}
	run(t, ws, netrcEnv, bazel, append([]string{"fetch", cache("4")}, pkgRepos...)...)
	if apkAuthed.Load() < 9 || apkRefused.Load() != 0 {
		t.Fatalf("APK server: %d authorized and %d refused requests; want >= 9 (3 members x 3 packages at least; members two architectures share come once, by checksum) and none refused", apkAuthed.Load(), apkRefused.Load())
	}
	// Without the netrc the same fetch is refused.
	first := pkgRepos[0]
	stderr, ok := bazelOutput(t, ws, env, bazel, "fetch", "--force", cache("5"), first)
	if ok || !strings.Contains(stderr, "401") {
		t.Fatalf("fetching %s without credentials (ok=%v):\n%s", first, ok, tail(stderr, 3000))
	}
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "401") {
			t.Logf("without credentials: %s", strings.TrimSpace(sc.Text()))
			break
		}
	}
	// A $NETRC that does not exist is named.
	stderr, ok = bazelOutput(t, ws, append(append([]string{}, env...), "NETRC="+filepath.Join(ws, "no-netrc")), bazel, "fetch", "--force", cache("5"), first)
	if want := "$NETRC is " + filepath.Join(ws, "no-netrc") + ", which does not exist"; ok || !strings.Contains(stderr, want) {
		t.Fatalf("fetching with a missing $NETRC (ok=%v) lacks %q:\n%s", ok, want, tail(stderr, 3000))
	}
}
