package credentials

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The test binary is also the helpers: linked as bazel-helper it speaks Bazel's credential
// helper protocol, linked as docker-credential-wharftest Docker's; $CREDTEST_* steer them.
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "bazel-helper":
		os.Exit(bazelHelper())
	case "docker-credential-wharftest":
		os.Exit(dockerHelper())
	}
	os.Exit(m.Run())
}

func logRequest(s string) {
	if p := os.Getenv("CREDTEST_LOG"); p != "" {
		f, _ := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		fmt.Fprintln(f, s)
		f.Close()
	}
}

func bazelHelper() int {
	if len(os.Args) != 2 || os.Args[1] != "get" {
		fmt.Fprintln(os.Stderr, "usage: bazel-helper get")
		return 2
	}
	var req struct{ URI string }
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	logRequest(req.URI)
	headers := map[string][]string{}
	switch os.Getenv("CREDTEST_MODE") {
	case "basic":
		headers["Authorization"] = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("helper-user:helper-s3cret"))}
	case "bearer":
		headers["Authorization"] = []string{"Bearer helper-t0ken"}
	case "headers":
		headers["X-Api-Key"] = []string{"helper-k3y"}
	case "none":
	case "fail":
		fmt.Fprintf(os.Stderr, "no credentials for %s\n", req.URI)
		return 1
	case "garbage":
		fmt.Println("helper-s3cret is not JSON")
		return 0
	case "bad-basic":
		headers["Authorization"] = []string{"Basic helper-s3cret"}
	case "digest":
		headers["Authorization"] = []string{"Digest helper-s3cret"}
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"headers": headers})
	return 0
}

func dockerHelper() int {
	if len(os.Args) != 2 || os.Args[1] != "get" {
		return 2
	}
	b, _ := io.ReadAll(os.Stdin)
	server := strings.TrimSpace(string(b))
	logRequest("docker " + server)
	if strings.Contains(" "+os.Getenv("CREDTEST_DOCKER_FAIL")+" ", " "+server+" ") {
		// Helpers print their errors on stdout; this one prints the credentials there too.
		json.NewEncoder(os.Stdout).Encode(map[string]string{"ServerURL": server, "Username": "docker-user", "Secret": "s3cr3t-TOKEN-docker"})
		fmt.Fprintln(os.Stderr, "keychain https://vault-user:s3cr3t-TOKEN-vault@vault.example.com is locked")
		return 1
	}
	if !strings.Contains(" "+os.Getenv("CREDTEST_DOCKER_HOSTS")+" ", " "+server+" ") {
		fmt.Println("credentials not found in native keychain")
		return 1
	}
	user := os.Getenv("CREDTEST_DOCKER_USER")
	if user == "" {
		user = "docker-user"
	}
	json.NewEncoder(os.Stdout).Encode(map[string]string{"ServerURL": server, "Username": user, "Secret": "docker-s3cret"})
	return 0
}

// helperBin links the test binary under name in a fresh directory and returns that path.
func helperBin(t *testing.T, name string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(self, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// onPath puts the directory of program first on PATH, for the test.
func onPath(t *testing.T, program string) {
	t.Setenv("PATH", filepath.Dir(program)+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// isolate gives the test an empty HOME and no Docker or podman configuration.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{"DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "NETRC", EnvHelpers} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("CREDTEST_LOG", filepath.Join(home, "requests.log"))
	return home
}

func requests(t *testing.T) []string {
	b, _ := os.ReadFile(os.Getenv("CREDTEST_LOG"))
	return strings.Fields(strings.ReplaceAll(string(b), "docker ", "docker:"))
}

func resolve(t *testing.T, kc authn.Keychain, ref string) (authn.AuthConfig, error) {
	t.Helper()
	repo, err := name.NewRepository(ref)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(repo)
	if err != nil {
		return authn.AuthConfig{}, err
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return *cfg, nil
}

func TestParseHelper(t *testing.T) {
	for _, c := range []struct{ in, ws, scope, path string }{
		{"/usr/bin/h", "", "", "/usr/bin/h"},
		{"registry.example.com=/usr/bin/h", "", "registry.example.com", "/usr/bin/h"},
		{"*.example.com=helper-on-path", "", "*.example.com", "helper-on-path"},
		{"%workspace%/tools/cred.sh", "/ws", "", "/ws/tools/cred.sh"},
	} {
		h, err := ParseHelper(c.in, c.ws)
		if err != nil || h.Scope != c.scope || h.Path != c.path || h.Dir != c.ws {
			t.Errorf("ParseHelper(%q) = %+v, %v", c.in, h, err)
		}
	}
	for in, want := range map[string]string{
		"":                           `credential helper "": no program path`,
		"example.com=":               `credential helper "example.com=": no program path`,
		"tools/cred.sh":              `credential helper "tools/cred.sh": the path must be absolute, %workspace%/..., or a program name on PATH`,
		"%workspace%/x":              `credential helper "%workspace%/x": %workspace% is unknown here (not run by ` + "`bazel run`)",
		"https://example.com=/bin/h": `credential helper "https://example.com=/bin/h": scope "https://example.com" must be a host name (registry.example.com) or *.domain (*.example.com), without scheme, port or path`,
		"example.com:5000=/bin/h":    `scope "example.com:5000" must be a host name`,
		"*.=/bin/h":                  `scope "*." must be a host name`,
		"a.*.example.com=/bin/h":     `scope "a.*.example.com" must be a host name`,
		"example.com/path=/bin/h":    `scope "example.com/path" must be a host name`,
		"example.com. =/bin/h":       `scope "example.com. " must be a host name`,
	} {
		_, err := ParseHelper(in, "")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseHelper(%q): %v, want %q", in, err, want)
		}
	}
	t.Setenv(EnvHelpers, "/bin/a  example.com=/bin/b\n*.x.org=c")
	hs, err := HelpersFromEnv("")
	if err != nil || len(hs) != 3 || hs[1].Scope != "example.com" || hs[2].Path != "c" {
		t.Fatalf("HelpersFromEnv: %+v %v", hs, err)
	}
	t.Setenv(EnvHelpers, "rel/path")
	if _, err := HelpersFromEnv(""); err == nil || !strings.HasPrefix(err.Error(), "$WHARF_CREDENTIAL_HELPERS: credential helper \"rel/path\"") {
		t.Fatalf("HelpersFromEnv: %v", err)
	}
}

func TestFind(t *testing.T) {
	hs, err := ParseHelpers([]string{"/default", "*.example.com=/wild", "*.eu.example.com=/eu", "registry.example.com=/exact", "registry.example.com=/exact2"}, "")
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"registry.example.com":  "/exact2", // the last one for a scope wins
		"REGISTRY.example.com":  "/exact2",
		"other.example.com":     "/wild",
		"example.com":           "/wild", // *.d also matches d, as in Bazel
		"a.b.eu.example.com":    "/eu",
		"ghcr.io":               "/default",
		"127.0.0.1":             "/default",
		"registry.example.com.": "/default",
	} {
		if h, ok := find(hs, host); !ok || h.Path != want {
			t.Errorf("find(%s) = %v %v, want %s", host, h, ok, want)
		}
	}
	if _, ok := find(hs[1:2], "ghcr.io"); ok {
		t.Error("a scoped helper applies to another host")
	}
}

func TestKeychainBazelHelper(t *testing.T) {
	isolate(t)
	helper := helperBin(t, "bazel-helper")
	hs, _ := ParseHelpers([]string{"*.example.com=" + helper, "127.0.0.1=" + helper}, "")
	kc := Keychain(hs)

	t.Setenv("CREDTEST_MODE", "basic")
	cfg, err := resolve(t, kc, "registry.example.com/org/app")
	if err != nil || cfg.Username != "helper-user" || cfg.Password != "helper-s3cret" {
		t.Fatalf("basic: %+v %v", cfg, err)
	}
	// Asked once per repository URI (cached), with the registry's scheme.
	resolve(t, kc, "registry.example.com/org/app")
	if _, err := resolve(t, Keychain(hs), "127.0.0.1:5000/app"); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(requests(t), " "), "https://registry.example.com/v2/org/app/ http://127.0.0.1:5000/v2/app/"; got != want {
		t.Errorf("helper asked about %s, want %s", got, want)
	}

	t.Setenv("CREDTEST_MODE", "bearer")
	cfg, err = resolve(t, Keychain(hs), "registry.example.com/org/app")
	if err != nil || cfg.RegistryToken != "helper-t0ken" || cfg.Username != "" {
		t.Fatalf("bearer: %+v %v", cfg, err)
	}

	// No helper for the host, or none that gives an Authorization: the Docker config
	// (here none: anonymous).
	t.Setenv("CREDTEST_MODE", "none")
	for _, ref := range []string{"ghcr.io/org/app", "registry.example.com/org/other"} {
		cfg, err = resolve(t, Keychain(hs), ref)
		if err != nil || cfg != (authn.AuthConfig{}) {
			t.Errorf("%s: %+v %v, want anonymous", ref, cfg, err)
		}
	}
}

func TestKeychainHelperErrors(t *testing.T) {
	isolate(t)
	helper := helperBin(t, "bazel-helper")
	hs := []Helper{{Path: helper}}
	for mode, want := range map[string]string{
		"fail":      "registry registry.example.com: credential helper " + helper + " for https://registry.example.com/v2/org/app/: exit status 1: no credentials for https://registry.example.com/v2/org/app/",
		"garbage":   "registry registry.example.com: credential helper " + helper + ` for https://registry.example.com/v2/org/app/: its output is not the JSON {"headers": {...}} of the credential helper protocol`,
		"bad-basic": "registry registry.example.com: credential helper " + helper + ": its Basic Authorization header is not base64",
		"digest":    "registry registry.example.com: credential helper " + helper + ": its Authorization header is neither `Basic <base64>` nor `Bearer <token>`",
	} {
		t.Setenv("CREDTEST_MODE", mode)
		_, err := resolve(t, Keychain(hs), "registry.example.com/org/app")
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v\nwant %s", mode, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the secret: %v", mode, err)
		}
	}
	_, err := resolve(t, Keychain([]Helper{{Path: "wharf-no-such-helper"}}), "registry.example.com/org/app")
	if want := `registry registry.example.com: credential helper wharf-no-such-helper for https://registry.example.com/v2/org/app/: exec: "wharf-no-such-helper": executable file not found in $PATH`; err == nil || err.Error() != want {
		t.Errorf("missing helper: %v\nwant %s", err, want)
	}
}

func writeJSON(t *testing.T, p string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// The Docker part is authn.DefaultKeychain's; these show that it does what docs/auth.md says.
func TestKeychainDockerConfig(t *testing.T) {
	home := isolate(t)
	onPath(t, helperBin(t, "docker-credential-wharftest"))
	t.Setenv("CREDTEST_DOCKER_HOSTS", "helped.example.com stored.example.com")
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, "docker"))
	cfg := map[string]any{
		"auths":       map[string]any{"auths.example.com": map[string]string{"auth": basic("auths-user", "auths-s3cret")}},
		"credHelpers": map[string]string{"helped.example.com": "wharftest", "broken.example.com": "wharf-missing"},
	}
	writeJSON(t, filepath.Join(home, "docker", "config.json"), cfg)
	for ref, want := range map[string]authn.AuthConfig{
		"auths.example.com/a":   {Username: "auths-user", Password: "auths-s3cret"},
		"helped.example.com/a":  {Username: "docker-user", Password: "docker-s3cret"},
		"stored.example.com/a":  {},
		"nothing.example.com/a": {},
	} {
		got, err := resolve(t, Keychain(nil), ref)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", ref, got, err, want)
		}
	}
	// With a credsStore, Docker keeps every credential there: auths entries give none.
	cfg["credsStore"] = "wharftest"
	writeJSON(t, filepath.Join(home, "docker", "config.json"), cfg)
	for ref, want := range map[string]authn.AuthConfig{
		"auths.example.com/a":   {},
		"helped.example.com/a":  {Username: "docker-user", Password: "docker-s3cret"},
		"stored.example.com/a":  {Username: "docker-user", Password: "docker-s3cret"},
		"nothing.example.com/a": {}, // the store has none: anonymous
	} {
		got, err := resolve(t, Keychain(nil), ref)
		if err != nil || got != want {
			t.Errorf("credsStore: %s: %+v %v, want %+v", ref, got, err, want)
		}
	}
	// The helpers were asked by host name.
	if got := strings.Join(requests(t), " "); !strings.Contains(got, "docker:helped.example.com") || !strings.Contains(got, "docker:stored.example.com") {
		t.Errorf("docker-credential-wharftest asked about %s", got)
	}
	_, err := resolve(t, Keychain(nil), "broken.example.com/a")
	if err == nil || !strings.HasPrefix(err.Error(), "registry broken.example.com: credentials from the Docker config: ") || !strings.Contains(err.Error(), "docker-credential-wharf-missing") {
		t.Errorf("missing docker credential helper: %v", err)
	}
	t.Logf("a credHelpers entry whose program is missing: %v", err)

	// A Bazel credential helper for the host comes first.
	t.Setenv("CREDTEST_MODE", "bearer")
	got, err := resolve(t, Keychain([]Helper{{Scope: "helped.example.com", Path: helperBin(t, "bazel-helper")}}), "helped.example.com/a")
	if err != nil || got.RegistryToken != "helper-t0ken" {
		t.Errorf("Bazel helper before credHelpers: %+v %v", got, err)
	}

	// podman's auth file when there is no Docker config.
	os.Unsetenv("DOCKER_CONFIG")
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(home, "auth.json"))
	writeJSON(t, filepath.Join(home, "auth.json"), map[string]any{"auths": map[string]any{"podman.example.com": map[string]string{"auth": basic("podman-user", "p")}}})
	if got, err := resolve(t, Keychain(nil), "podman.example.com/a"); err != nil || got.Username != "podman-user" {
		t.Errorf("REGISTRY_AUTH_FILE: %+v %v", got, err)
	}
}

// A registry that wants basic credentials: an image is pushed with the helper's, and
// refused without.
func TestKeychainPushToRegistry(t *testing.T) {
	isolate(t)
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "helper-user" || p != "helper-s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(Keychain(nil))); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("push without credentials: %v", err)
	}
	t.Setenv("CREDTEST_MODE", "basic")
	hs := []Helper{{Scope: "127.0.0.1", Path: helperBin(t, "bazel-helper")}}
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(Keychain(hs))); err != nil {
		t.Fatalf("push with the helper's credentials: %v", err)
	}
}

// A docker-credential-* program that fails: its stdout (which may hold the credentials) is
// never quoted, its stderr is, with URL userinfo masked (#26 item 3).
func TestDockerHelperOutputNotQuoted(t *testing.T) {
	home := isolate(t)
	onPath(t, helperBin(t, "docker-credential-wharftest"))
	t.Setenv("CREDTEST_DOCKER_FAIL", "failing.example.com")
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, "docker"))
	config := filepath.Join(home, "docker", "config.json")
	writeJSON(t, config, map[string]any{"credHelpers": map[string]string{"failing.example.com": "wharftest"}})
	_, err := resolve(t, Keychain(nil), "failing.example.com/a")
	want := "registry failing.example.com: credentials from the Docker config: " + config +
		` credHelpers["failing.example.com"]: docker-credential-wharftest for failing.example.com: exit status 1: keychain https://vault-user:***@vault.example.com is locked`
	if err == nil || err.Error() != want {
		t.Fatalf("failing docker-credential helper: %v\nwant %s", err, want)
	}
	if strings.Contains(err.Error(), "s3cr3t-TOKEN") || strings.Contains(err.Error(), "docker-user") {
		t.Errorf("the error quotes the helper's output: %v", err)
	}
}

// A Docker or podman config that is not JSON: the error names the file (#26 item 14).
func TestDockerConfigMalformed(t *testing.T) {
	home := isolate(t)
	bad := []byte(`{"auths": {"registry.example.com": {"auth": "s3cr3t-TOKEN"}, oops}}`)
	podman, docker := filepath.Join(home, "auth.json"), filepath.Join(home, ".docker", "config.json")
	t.Setenv("REGISTRY_AUTH_FILE", podman)
	for _, file := range []string{podman, docker} { // the Docker config wins once it exists
		os.MkdirAll(filepath.Dir(file), 0o755)
		os.WriteFile(file, bad, 0o600)
		_, err := resolve(t, Keychain(nil), "registry.example.com/a")
		want := "registry registry.example.com: credentials from the Docker config: " + file + ": not valid JSON at byte 62: invalid character 'o' looking for beginning of object key string"
		if err == nil || err.Error() != want {
			t.Errorf("malformed %s: %v\nwant %s", file, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("the error quotes the file: %v", err)
		}
	}
}

// What authn.DefaultKeychain's Docker config reading also gives, kept by ours: legacy
// `https://host/v1/` keys, Docker Hub's key, $DOCKER_AUTH_CONFIG before the file, and a
// helper's `<token>` user as an identity token.
func TestKeychainDockerConfigKeys(t *testing.T) {
	home := isolate(t)
	onPath(t, helperBin(t, "docker-credential-wharftest"))
	t.Setenv("CREDTEST_DOCKER_HOSTS", "token.example.com")
	t.Setenv("CREDTEST_DOCKER_USER", "<token>")
	writeJSON(t, filepath.Join(home, ".docker", "config.json"), map[string]any{
		"auths": map[string]any{
			"https://legacy.example.com/v1/": map[string]string{"auth": basic("legacy-user", "p")},
			"https://index.docker.io/v1/":    map[string]string{"username": "hub-user", "password": "p"},
			"env.example.com":                map[string]string{"auth": basic("file-user", "p")},
		},
		"credHelpers": map[string]string{"token.example.com": "wharftest"},
	})
	t.Setenv("DOCKER_AUTH_CONFIG", `{"auths": {"env.example.com": {"auth": "`+basic("env-user", "p")+`"}}}`)
	for ref, want := range map[string]authn.AuthConfig{
		"legacy.example.com/a": {Username: "legacy-user", Password: "p"},
		"docker.io/library/a":  {Username: "hub-user", Password: "p"},
		"env.example.com/a":    {Username: "env-user", Password: "p"},
		"token.example.com/a":  {IdentityToken: "docker-s3cret"},
	} {
		if got, err := resolve(t, Keychain(nil), ref); err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", ref, got, err, want)
		}
	}
}

// $WHARF_CREDENTIAL_HELPER_TIMEOUT sets the helpers' limit in seconds.
func TestHelperTimeoutEnv(t *testing.T) {
	for v, want := range map[string]time.Duration{"": HelperTimeout, "7": 7 * time.Second, " 120 ": 2 * time.Minute} {
		t.Setenv(EnvHelperTimeout, v)
		if got, err := limit(); err != nil || got != want {
			t.Errorf("%q: %s %v, want %s", v, got, err, want)
		}
	}
	for _, v := range []string{"0", "-1", "10s", "x"} {
		t.Setenv(EnvHelperTimeout, v)
		want := `$WHARF_CREDENTIAL_HELPER_TIMEOUT is "` + v + `": want a whole number of seconds above 0 (default 30)`
		if _, err := limit(); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", v, err, want)
		}
	}
	isolate(t)
	t.Setenv(EnvHelperTimeout, "x")
	_, err := resolve(t, Keychain([]Helper{{Path: helperBin(t, "bazel-helper")}}), "registry.example.com/a")
	if want := `registry registry.example.com: credential helper `; err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), `: $WHARF_CREDENTIAL_HELPER_TIMEOUT is "x": want a whole number of seconds above 0 (default 30)`) {
		t.Errorf("helper with a bad limit: %v", err)
	}
}

// Source names where a repository's credentials came from, never the secret: a Bazel
// helper, a credHelpers/credsStore program, an auths entry, $DOCKER_AUTH_CONFIG; "" for none.
func TestKeychainSource(t *testing.T) {
	home := isolate(t)
	onPath(t, helperBin(t, "docker-credential-wharftest"))
	t.Setenv("CREDTEST_DOCKER_HOSTS", "helped.example.com stored.example.com")
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, "docker"))
	path := filepath.Join(home, "docker", "config.json")
	writeJSON(t, path, map[string]any{
		"auths":       map[string]any{"https://auths.example.com/v1/": map[string]string{"auth": basic("auths-user", "auths-s3cret")}},
		"credHelpers": map[string]string{"helped.example.com": "wharftest"},
	})
	t.Setenv("DOCKER_AUTH_CONFIG", `{"auths": {"env.example.com": {"auth": "`+basic("env-user", "env-s3cret")+`"}}}`)
	t.Setenv("CREDTEST_MODE", "basic")
	bazel := Helper{Scope: "bazel.example.com", Path: helperBin(t, "bazel-helper")}
	kc := Keychain([]Helper{bazel})
	for ref, want := range map[string]string{
		"auths.example.com/a":   path + ` auths["https://auths.example.com/v1/"]`,
		"helped.example.com/a":  path + ` credHelpers["helped.example.com"] (docker-credential-wharftest)`,
		"env.example.com/a":     `$DOCKER_AUTH_CONFIG auths["env.example.com"]`,
		"bazel.example.com/a":   "the Bazel credential helper bazel.example.com=" + bazel.Path,
		"nothing.example.com/a": "",
	} {
		repo, _ := name.NewRepository(ref)
		if _, err := kc.Resolve(repo); err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		got := Source(kc, repo)
		if got != want {
			t.Errorf("%s: source %q, want %q", ref, got, want)
		}
		for _, secret := range []string{"s3cret", "auths-user", "env-user"} {
			if strings.Contains(got, secret) {
				t.Errorf("%s: source %q shows %q", ref, got, secret)
			}
		}
	}
	repo, _ := name.NewRepository("auths.example.com/never-resolved")
	if got := Source(kc, repo); got != "" {
		t.Errorf("a repository never resolved: %q", got)
	}
	if got := Source(authn.DefaultKeychain, repo); got != "" {
		t.Errorf("another keychain: %q", got)
	}
}
