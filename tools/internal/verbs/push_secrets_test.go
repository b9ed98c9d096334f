package verbs

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/registrytest"
)

const pushSecret = "s3cr3t-TOKEN-push-77"

// Every failing push that a secret reaches (in flags, .bazelrc files and the environment)
// fails with a message that masks it, and prints it nowhere.
func TestPushErrorsHoldNoSecret(t *testing.T) {
	l := newPushLayout(t)
	// The layer is only in caches, none of which has it: push lists where it looked.
	os.Remove(filepath.Join(filepath.Dir(l.plan), "l.tgz"))
	reg := registrytest.New(t)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer refusing.Close()
	refusingHost := strings.TrimPrefix(refusing.URL, "http://")
	base := []string{"--plan", l.plan, "--repository", reg.Host + "/app"}
	for _, c := range []struct {
		name  string
		flags []string
		rc    string            // the workspace's .bazelrc
		env   map[string]string // more environment; "RC" in a value is a second rc file's path
		other string            // that second rc file
		want  string
	}{
		{name: "remote cache flag", flags: []string{"--remote-cache", "grpc://user:" + pushSecret + "@127.0.0.1:1"},
			want: " bytes); looked in:\n  the output tree (" + filepath.Join(filepath.Dir(l.plan), "l.tgz") + "): not found\n  remote cache grpc://user:***@127.0.0.1:1: Post \"http://user:***@127.0.0.1:1/"},
		{name: "remote cache flag not a URL", flags: []string{"--remote-cache", "http://user:" + pushSecret + "@ca che"},
			want: `remote cache "http://user:***@ca che": parse "http://user:***@ca che": invalid character " " in host name`},
		{name: "remote cache flag refusing", flags: []string{"--remote-cache", "http://user:" + pushSecret + "@" + refusingHost},
			want: "remote cache http://user:***@" + refusingHost + ": GET http://user:***@" + refusingHost + "/cas/"},
		{name: "rc remote cache token", rc: "build --remote_cache=http://" + pushSecret + "@127.0.0.1:1\n",
			want: "remote cache http://***@127.0.0.1:1: Get \"http://***@127.0.0.1:1/cas/"},
		{name: "rc config from env", rc: "build:ci --remote_executor=grpcs://ci:" + pushSecret + "@127.0.0.1:1\n",
			env: map[string]string{"WHARF_BAZEL_CONFIG": "ci"}, want: "remote cache grpcs://ci:***@127.0.0.1:1: "},
		{name: "rc header with a colon", rc: "# team\nbuild --remote_cache=grpc://127.0.0.1:1\n" +
			`build --remote_header="Authorization: Basic ` + pushSecret + `"` + "\n",
			want: `/.bazelrc:3: --remote_header "Authorization: ***": want NAME=VALUE`},
		{name: "rc unclosed quote", env: map[string]string{"WHARF_BAZELRC": "RC"},
			other: "build --remote_header='Authorization=Bearer " + pushSecret + "\n",
			want:  "user.bazelrc:1: EOF found when expecting closing quote (the line is not shown: it may hold a secret)"},
		{name: "rc line over 1 MiB", env: map[string]string{"WHARF_BAZELRC": "RC"},
			other: "\nbuild --remote_header=X=" + strings.Repeat(pushSecret, 1<<16) + "\n",
			want:  "user.bazelrc:2: the line is longer than 1048576 bytes"},
		{name: "header flag with a colon", flags: []string{"--remote-header", "Authorization: Bearer " + pushSecret},
			want: `--remote-header "Authorization: ***": want NAME=VALUE`},
		{name: "header flag split", flags: []string{"--remote-header=Authorization=Bearer", pushSecret},
			want: "unexpected arguments after the flags (1, not shown: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := t.TempDir()
			noCredentials(t)
			t.Setenv("BUILD_WORKSPACE_DIRECTORY", ws)
			os.WriteFile(filepath.Join(ws, ".bazelrc"), []byte(c.rc), 0o644)
			other := filepath.Join(t.TempDir(), "user.bazelrc")
			os.WriteFile(other, []byte(c.other), 0o644)
			for k, v := range c.env {
				t.Setenv(k, strings.ReplaceAll(v, "RC", other))
			}
			stdout, stderr, err := runPushStreams(t, readRC, append(base, c.flags...)...)
			out := stdout + "\n" + stderr
			if err == nil {
				t.Fatalf("push succeeded; printed %.300q", out)
			}
			t.Logf("user sees: %.600s", err)
			if all := err.Error() + out; strings.Contains(all, pushSecret) {
				t.Errorf("the secret is in what push printed or returned: %.600q", all)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error lacks %q", c.want)
			}
		})
	}
}
