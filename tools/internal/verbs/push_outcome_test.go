package verbs

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/registrytest"
)

// assertSaid fails unless text holds each of want.
func assertSaid(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// assertUnsaid fails if text holds any of secrets.
func assertUnsaid(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s shows the secret %q", what, s)
		}
	}
}

// oci_push_all of three images whose second's tag the registry refuses: the first and the
// third are pushed and tagged, every image's outcome is on stderr, the pushed refs on
// stdout, and the push fails.
func TestPushAllReportsEveryImage(t *testing.T) {
	fastRetries(t)
	noCredentials(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	reg.Faults(func(u registrytest.Upload) registrytest.Fault {
		if u.Kind == "manifest" && u.Repo == "b" && u.Ref == "v1" {
			return registrytest.Denied
		}
		return registrytest.None
	})
	tags := filepath.Join(t.TempDir(), "tags")
	os.WriteFile(tags, []byte("v1\n"), 0o644)
	var args []string
	for _, n := range []string{"a", "b", "c"} {
		args = append(args, "--plan", l.withLines(t, "--label=//test:"+n, "--repository="+reg.Host+"/"+n, "--tags-file="+tags))
	}
	stdout, stderr, err := runPushStreams(t, noRC, args...)
	t.Logf("stdout:\n%s\nstderr:\n%s\nerror: %v", stdout, stderr, err)
	if err == nil {
		t.Fatal("push with a refused tag succeeded")
	}
	ref := func(n string) string { return reg.Host + "/" + n + "@" + l.digest }
	if want := ref("a") + "\n" + ref("c"); stdout != want {
		t.Errorf("stdout %q, want the pushed images %q", stdout, want)
	}
	assertSaid(t, "stderr", stderr,
		"pushed //test:a  "+ref("a")+"  tags: v1\n",
		"failed //test:b  "+ref("b")+"  tags: v1\n  tag v1: ",
		"DENIED: injected fault: manifest v1 may not be written",
		"pushed //test:c  "+ref("c")+"  tags: v1\n",
		"pushed 2 of 3 images, 1 failed\n")
	if want := "1 of 3 images not pushed: //test:b failed (every image's outcome is above)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	for _, n := range []string{"a", "c"} {
		if !reg.HasManifest(n, "v1") {
			t.Errorf("%s lacks its tag v1", n)
		}
	}
}

// A registry that answers a blob's upload with another digest, or claims a blob it does
// not hold, fails the push before any manifest, naming the blob and the repository.
func TestPushChecksTheRegistryHoldsEachBlob(t *testing.T) {
	fastRetries(t)
	noCredentials(t)
	l := newPushLayout(t)
	layerBlob := l.blobs[1]
	for _, c := range []struct {
		fault registrytest.Fault
		want  string
	}{
		{registrytest.WrongDigest, "the registry answered its upload to %s/app with Docker-Content-Digest sha256:"},
		{registrytest.Drop, "the registry accepted its upload to %s/app but does not hold it (HEAD: 404 Not Found)"},
	} {
		t.Run(c.fault.String(), func(t *testing.T) {
			reg := registrytest.New(t)
			want := "layer blob " + layerBlob + ": " + fmt.Sprintf(c.want, reg.Host)
			reg.Faults(func(u registrytest.Upload) registrytest.Fault {
				if u.Method == http.MethodPut && u.Digest == layerBlob {
					return c.fault
				}
				return registrytest.None
			})
			stdout, stderr, err := runPushStreams(t, noRC, "--plan", l.plan, "--repository", reg.Host+"/app")
			t.Logf("stdout: %q\nstderr: %q\nerror: %v", stdout, stderr, err)
			if err == nil {
				t.Fatal("push to a registry that lost a blob succeeded")
			}
			assertSaid(t, "error", err.Error(), "pushing //test:push ("+reg.Host+"/app@"+l.digest+"): "+want)
			if stdout != "" || strings.Contains(stderr, "pushed") {
				t.Errorf("a failed push printed %q and %q", stdout, stderr)
			}
			if reg.HasManifest("app", l.digest) {
				t.Error("the registry holds the index without its layer")
			}
		})
	}
}

// A bearer token that expires mid-upload (401 on the layer's PATCH: its bytes come from a
// file) is refreshed and the blob sent again from its source; a registry refusing every
// PATCH fails naming the blob and the 401, not a local file.
func TestPushTokenExpiresMidUpload(t *testing.T) {
	fastRetries(t)
	const password, token = "s3cr3t-PASSWORD-h2", "s3cr3t-TOKEN-h2"
	config := noCredentials(t)
	auth := base64.StdEncoding.EncodeToString([]byte("wharf:" + password))
	l := newPushLayout(t)
	for _, c := range []struct {
		name  string
		every bool
	}{{"once", false}, {"always", true}} {
		t.Run(c.name, func(t *testing.T) {
			reg := registrytest.New(t)
			reg.RequireToken("wharf", password, token)
			os.WriteFile(filepath.Join(config, "config.json"), []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+`"}}}`), 0o600)
			reg.Faults(func(u registrytest.Upload) registrytest.Fault {
				if u.Method == http.MethodPatch && (c.every || u.N == 1 && u.Digest == l.blobs[1]) {
					return registrytest.Expire
				}
				return registrytest.None
			})
			stdout, stderr, err := runPushStreams(t, noRC, "--plan", l.plan, "--repository", reg.Host+"/app")
			t.Logf("stdout: %q\nstderr: %q\nerror: %v\ninjected: %v", stdout, stderr, err, reg.Injected())
			all := stdout + stderr
			if err != nil {
				all += err.Error()
			}
			assertUnsaid(t, "output", all, password, token, auth)
			if !c.every {
				if err != nil {
					t.Fatalf("push across a token refresh: %v", err)
				}
				assertPushed(t, reg, "app", l, stdout)
				return
			}
			if err == nil {
				t.Fatal("push to a registry refusing every PATCH succeeded")
			}
			assertSaid(t, "error", err.Error(), "pushing //test:push ("+reg.Host+"/app@"+l.digest+"): ", " blob sha256:",
				"registry "+reg.Host+" refused the credentials from "+filepath.Join(config, "config.json")+` auths["`+reg.Host+`"] (401 Unauthorized: wrong, expired or revoked)`)
			assertUnsaid(t, "error", err.Error(), "already closed", "l.tgz")
		})
	}
}
