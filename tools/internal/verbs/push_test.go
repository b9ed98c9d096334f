package verbs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rules-wharf/rules_wharf/tools/internal/push"
	"github.com/rules-wharf/rules_wharf/tools/internal/registrytest"
)

// pushLayout is an index of two images sharing a layer, built by the verbs as in
// TestIndexLayoutPush: three blobs (the layer, two configs) and three manifests.
type pushLayout struct {
	dir       string
	plan      string   // a plan of the index (as oci_push writes), by absolute paths
	digest    string   // the index's
	manifests []string // the images'
	blobs     []string
}

func newPushLayout(t *testing.T) *pushLayout {
	t.Helper()
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	read := func(s string) string {
		b, err := os.ReadFile(p(s))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	os.WriteFile(p("app"), []byte("x"), 0o644)
	if err := layerVerb([]string{"--file", "/app=" + p("app"), "--blob", p("l.tgz"), "--metadata", p("l.json")}); err != nil {
		t.Fatal(err)
	}
	args := []string{"--index", p("index.json"), "--descriptor", p("index.desc"), "--digest", p("index.digest")}
	blobs := []string{"--blob", p("index.json")}
	l := &pushLayout{dir: p("layout")}
	for _, arch := range []string{"amd64", "arm64"} {
		if err := imageVerb([]string{"--spec-json", `{"os":"linux","architecture":"` + arch + `"}`, "--layer", p("l.json"), "--config", p(arch + ".config"),
			"--manifest", p(arch + ".manifest"), "--digest", p(arch + ".digest"), "--descriptor", p(arch + ".desc")}); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--manifest", p(arch+".desc"))
		blobs = append(blobs, "--blob", p(arch+".manifest"), "--blob", p(arch+".config"))
		l.manifests = append(l.manifests, read(arch+".digest"))
	}
	if err := indexVerb(args); err != nil {
		t.Fatal(err)
	}
	if err := layoutVerb(append(append([]string{"--descriptor", p("index.desc")}, blobs...),
		"--layer", p("l.tgz")+"="+p("l.json"), "--out", l.dir)); err != nil {
		t.Fatal(err)
	}
	l.digest = read("index.digest")
	plan := "--label=//test:push\n--descriptor=" + p("index.desc") + "\n--json=" + p("index.json") + "\n"
	for _, arch := range []string{"amd64", "arm64"} {
		plan += "--json=" + p(arch+".manifest") + "\n--json=" + p(arch+".config") + "\n"
	}
	plan += "--layer=" + p("l.tgz") + "=" + p("l.json") + "\n"
	l.plan = p("push.plan")
	if err := os.WriteFile(l.plan, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, m := range l.manifests {
		var mf struct {
			Config struct{ Digest string }
			Layers []struct{ Digest string }
		}
		b, err := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", strings.TrimPrefix(m, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &mf); err != nil {
			t.Fatal(err)
		}
		l.blobs = append(l.blobs, mf.Config.Digest)
		for _, x := range mf.Layers {
			if !slices.Contains(l.blobs, x.Digest) {
				l.blobs = append(l.blobs, x.Digest)
			}
		}
	}
	if len(l.blobs) != 3 {
		t.Fatalf("layout blobs %v, want a shared layer and two configs", l.blobs)
	}
	return l
}

// withLines returns a copy of the layout's plan with lines added (e.g. the rule's
// --repository or --tags-file).
func (l *pushLayout) withLines(t *testing.T, lines ...string) string {
	t.Helper()
	return writePlan(t, l.plan, lines...)
}

// writePlan writes a plan: the lines of base (a plan file, or none when empty), then lines.
func writePlan(t *testing.T, base string, lines ...string) string {
	t.Helper()
	var b []byte
	if base != "" {
		var err error
		if b, err = os.ReadFile(base); err != nil {
			t.Fatal(err)
		}
	}
	b = append(b, strings.Join(lines, "\n")+"\n"...)
	f, err := os.CreateTemp(t.TempDir(), "*.plan")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// fastRetries shortens go-containerregistry's waits between retries (1s, then 3s).
func fastRetries(t *testing.T) {
	b := remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 3}
	push.Backoff = &b
	t.Cleanup(func() { push.Backoff = nil })
}

// noCredentials points every place authn.DefaultKeychain looks at an empty directory,
// which it returns for a test to write a docker config into.
func noCredentials(t *testing.T) string {
	dir := t.TempDir()
	for _, v := range []string{"HOME", "DOCKER_CONFIG", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"} {
		t.Setenv(v, dir)
	}
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(dir, "none.json"))
	return dir
}

// rcFiles says whether runPushStreams lets push read the .bazelrc files.
type rcFiles bool

const (
	noRC   rcFiles = false // --no-bazelrc
	readRC rcFiles = true  // the .bazelrc files the environment names
)

// runPushStreams runs pushVerb with a deadline, so a hang fails the test instead of
// stalling it, and returns what it printed on stdout and stderr.
func runPushStreams(t *testing.T, rc rcFiles, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	capture := func(f **os.File) (restore func() string) {
		r, w, perr := os.Pipe()
		if perr != nil {
			t.Fatal(perr)
		}
		old := *f
		*f = w
		var buf bytes.Buffer
		done := make(chan struct{})
		go func() { io.Copy(&buf, r); close(done) }()
		return func() string {
			*f = old
			w.Close()
			<-done
			return strings.TrimSpace(buf.String())
		}
	}
	restoreOut, restoreErr := capture(&os.Stdout), capture(&os.Stderr)
	if rc == noRC {
		args = append([]string{"--no-bazelrc"}, args...)
	}
	done := make(chan error, 1)
	go func() { done <- pushVerb(args, io.Discard) }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		restoreOut()
		restoreErr()
		t.Fatalf("push %d arguments still running after 30s", len(args))
	}
	return restoreOut(), restoreErr(), err
}

// runPush runs pushVerb as runPushStreams does, without the .bazelrc files, and returns
// what it printed on stdout.
func runPush(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, _, err := runPushStreams(t, noRC, args...)
	return out, err
}

// assertNoDangling fails if reg holds a manifest of l without everything it refers to.
func assertNoDangling(t *testing.T, reg *registrytest.Registry, repo string, l *pushLayout) {
	t.Helper()
	for _, m := range append([]string{l.digest}, l.manifests...) {
		if missing := reg.Missing(repo, m); len(missing) > 0 {
			t.Errorf("registry holds manifest %s without %v", m, missing)
		}
	}
}

// assertPushed fails unless reg holds l's index, complete, and out names it.
func assertPushed(t *testing.T, reg *registrytest.Registry, repo string, l *pushLayout, out string) {
	t.Helper()
	if want := reg.Host + "/" + repo + "@" + l.digest; out != want {
		t.Errorf("push printed %q, want %q", out, want)
	}
	if !reg.HasManifest(repo, l.digest) {
		t.Errorf("registry lacks the index %s", l.digest)
	}
	assertNoDangling(t, reg, repo, l)
}

func TestPushRetriesFaultyUploads(t *testing.T) {
	fastRetries(t)
	noCredentials(t)
	l := newPushLayout(t)
	clean := registrytest.New(t)
	cleanOut, err := runPush(t, "--plan", l.plan, "--repository", clean.Host+"/app")
	if err != nil {
		t.Fatal(err)
	}

	reg := registrytest.New(t)
	// Every blob's first PATCH gets a 500 and its first commit a reset; the first PUT of
	// each manifest is stored but its answer lost. Each blob needs all three attempts.
	reg.Faults(func(u registrytest.Upload) registrytest.Fault {
		switch {
		case u.N > 1:
			return registrytest.None
		case u.Kind == "blob" && u.Method == http.MethodPatch:
			return registrytest.Status500
		case u.Kind == "blob" && u.Method == http.MethodPut:
			return registrytest.Reset
		case u.Kind == "manifest":
			return registrytest.Lost
		}
		return registrytest.None
	})
	out, err := runPush(t, "--plan", l.plan, "--repository", reg.Host+"/app", "--tag", "v1")
	if err != nil {
		t.Fatalf("push through 500s and resets: %v", err)
	}
	t.Logf("clean push: %s\nfaulty push: %s\ninjected: %v", cleanOut, out, reg.Injected())
	if strings.TrimPrefix(out, reg.Host) != strings.TrimPrefix(cleanOut, clean.Host) {
		t.Errorf("faulty push printed %s, clean push %s", out, cleanOut)
	}
	assertPushed(t, reg, "app", l, out)
	if n := len(reg.Injected()); n != 3*2+3 {
		t.Errorf("injected %d faults, want a 500 and a reset per blob and a lost answer per manifest: %v", n, reg.Injected())
	}
}

func TestPushEveryUploadFails(t *testing.T) {
	fastRetries(t)
	noCredentials(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	reg.Faults(func(registrytest.Upload) registrytest.Fault { return registrytest.Status500 })
	_, err := runPush(t, "--plan", l.plan, "--repository", reg.Host+"/app")
	if err == nil {
		t.Fatal("push to a registry failing every upload succeeded")
	}
	t.Logf("user sees: %v", err)
	for _, want := range []string{"pushing //test:push (" + reg.Host + "/app@" + l.digest + "): ", " blob sha256:", "500 Internal Server Error"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if !strings.Contains(err.Error(), l.blobs[0]) && !strings.Contains(err.Error(), l.blobs[1]) && !strings.Contains(err.Error(), l.blobs[2]) {
		t.Errorf("error names none of the blobs %v", l.blobs)
	}
	for _, m := range append([]string{l.digest}, l.manifests...) {
		if reg.HasManifest("app", m) {
			t.Errorf("registry holds manifest %s after a failed push", m)
		}
	}

	reg.Faults(nil)
	out, err := runPush(t, "--plan", l.plan, "--repository", reg.Host+"/app")
	if err != nil {
		t.Fatalf("re-run without faults: %v", err)
	}
	assertPushed(t, reg, "app", l, out)
}

func TestPushStall(t *testing.T) {
	fastRetries(t)
	noCredentials(t)
	l := newPushLayout(t)
	stallPatches := func(u registrytest.Upload) registrytest.Fault {
		if u.Method == http.MethodPatch {
			return registrytest.Stall
		}
		return registrytest.None
	}
	for _, c := range []struct {
		name, env, idle string
		flags           []string
	}{
		// The flag wins over the environment; if it did not, the push would outlast the
		// test's deadline.
		{"flag", "1h", "1s", []string{"--stall-timeout=1s"}},
		{"env", "500ms", "500ms", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(push.StallTimeoutEnv, c.env)
			reg := registrytest.New(t)
			reg.Faults(stallPatches)
			start := time.Now()
			_, err := runPush(t, append([]string{"--plan", l.plan, "--repository", reg.Host + "/app"}, c.flags...)...)
			took := time.Since(start)
			if err == nil {
				t.Fatal("push to a stalling registry succeeded")
			}
			t.Logf("after %v the user sees: %v", took.Round(time.Millisecond), err)
			for _, want := range []string{"pushing //test:push (" + reg.Host + "/app@" + l.digest + "): ", " blob sha256:",
				"no progress for " + c.idle + " (stall timeout; --stall-timeout or WHARF_PUSH_STALL_TIMEOUT raise it)"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q", want)
				}
			}
			if took > 10*time.Second {
				t.Errorf("push took %v to give up", took)
			}
			// Three attempts per blob, as for any temporary failure.
			if n := len(reg.Injected()); n < 3 {
				t.Errorf("stalled %d uploads, want every attempt of a blob retried: %v", n, reg.Injected())
			}
			assertNoDangling(t, reg, "app", l)
			if reg.HasManifest("app", l.digest) {
				t.Error("registry holds the index after a stalled push")
			}

			reg.Faults(nil)
			out, err := runPush(t, append([]string{"--plan", l.plan, "--repository", reg.Host + "/app"}, c.flags...)...)
			if err != nil {
				t.Fatalf("re-run without the stall: %v", err)
			}
			assertPushed(t, reg, "app", l, out)
		})
	}
}

func TestPushStallTimeoutFlags(t *testing.T) {
	l := newPushLayout(t)
	t.Setenv(push.StallTimeoutEnv, "soon")
	err := pushVerb([]string{"--plan", l.plan, "--repository", "127.0.0.1:1/app"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), push.StallTimeoutEnv+`="soon"`) {
		t.Fatalf("bad %s: %v", push.StallTimeoutEnv, err)
	}
	err = pushVerb([]string{"--plan", l.plan, "--repository", "127.0.0.1:1/app", "--stall-timeout=-1s"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("negative --stall-timeout: %v", err)
	}
}

func TestPushUnauthorized(t *testing.T) {
	fastRetries(t)
	config := noCredentials(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	reg.RequireAuth("wharf", "s3cret")
	_, err := runPush(t, "--plan", l.plan, "--repository", reg.Host+"/app")
	if err == nil {
		t.Fatal("push without credentials succeeded")
	}
	t.Logf("user sees: %v", err)
	for _, want := range []string{"pushing //test:push (" + reg.Host + "/app@" + l.digest + "): ", "registry " + reg.Host + " refused access (401 Unauthorized",
		"docker login " + reg.Host} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if reg.HasManifest("app", l.digest) {
		t.Error("registry holds the index after a refused push")
	}
	assertNoDangling(t, reg, "app", l)

	// With credentials in the docker config the same push goes through.
	auth := base64.StdEncoding.EncodeToString([]byte("wharf:s3cret"))
	os.WriteFile(filepath.Join(config, "config.json"), []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+`"}}}`), 0o600)
	out, err := runPush(t, "--plan", l.plan, "--repository", reg.Host+"/app")
	if err != nil {
		t.Fatalf("push with credentials: %v", err)
	}
	assertPushed(t, reg, "app", l, out)
}

// Credentials only in a credHelpers entry (a docker-credential-* program), or only from a
// Bazel credential helper, push to a registry that wants them.
func TestPushCredentialHelpers(t *testing.T) {
	fastRetries(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	reg.RequireAuth("wharf", "s3cret")
	bin := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(bin, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	log := filepath.Join(bin, "asked")
	script("docker-credential-wharfpush", `read server; echo "docker $server" >>`+log+`
echo '{"ServerURL":"'$server'","Username":"wharf","Secret":"s3cret"}'
`)
	auth := base64.StdEncoding.EncodeToString([]byte("wharf:s3cret"))
	helper := script("bazel-helper", `cat >/dev/null; echo bazel >>`+log+`
echo '{"headers":{"Authorization":["Basic `+auth+`"]}}'
`)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	config := noCredentials(t)
	os.WriteFile(filepath.Join(config, "config.json"), []byte(`{"credHelpers":{"`+reg.Host+`":"wharfpush"}}`), 0o600)
	out, err := runPush(t, "--plan", l.plan, "--repository", reg.Host+"/cred-helpers")
	if err != nil {
		t.Fatalf("push with a credHelpers entry: %v", err)
	}
	assertPushed(t, reg, "cred-helpers", l, out)

	noCredentials(t)
	out, err = runPush(t, "--plan", l.plan, "--repository", reg.Host+"/bazel-helper", "--credential-helper", "127.0.0.1="+helper)
	if err != nil {
		t.Fatalf("push with a Bazel credential helper: %v", err)
	}
	assertPushed(t, reg, "bazel-helper", l, out)
	asked, _ := os.ReadFile(log)
	if !strings.Contains(string(asked), "docker "+reg.Host) || !strings.Contains(string(asked), "bazel") {
		t.Errorf("helpers asked: %q; want the docker-credential program for %s, then the Bazel helper", asked, reg.Host)
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, auth) {
		t.Error("push printed the credentials")
	}
}
