package push

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
	"github.com/rules-wharf/rules_wharf/tools/internal/registrytest"
)

// A registry refusing a push: a 401, or a 403 when no credentials were found, says where
// credentials come from; a 401 for credentials found names where they came from; a 403 for
// credentials it accepted (they may not write this tag) names where they came from and the
// repository, never the secret.
func TestPushRefusal401And403(t *testing.T) {
	home := noCredentials(t)
	b := newBuilt(t, randomImage(t, 1))
	b.putLocal(t, b.layers[0])
	push := func(reg *registrytest.Registry) string {
		t.Helper()
		_, err := Push(context.Background(), []Request{b.request(t, reg.Host+"/app", "v1")}, Options{Keychain: credentials.Keychain(nil)})
		if err == nil {
			t.Fatal("a refused push succeeded")
		}
		t.Logf("user sees: %v", err)
		if strings.Contains(err.Error(), "s3cret-push") || strings.Contains(err.Error(), "pusher") {
			t.Errorf("the error shows the credentials: %v", err)
		}
		return err.Error()
	}
	denyTag := func(u registrytest.Upload) registrytest.Fault {
		if u.Kind == "manifest" && u.Ref == "v1" {
			return registrytest.Denied
		}
		return registrytest.None
	}
	hint := "; credentials come from a Bazel credential helper (--credential-helper, $WHARF_CREDENTIAL_HELPERS, the .bazelrc's --credential_helper), else $DOCKER_CONFIG/config.json"

	reg := registrytest.New(t)
	reg.RequireAuth("pusher", "s3cret-push")
	reg.Faults(denyTag)
	got := push(reg)
	assertHas(t, got, "registry "+reg.Host+" refused access (401 Unauthorized"+hint, "docker login "+reg.Host)

	// Anonymous and refused the tag: where credentials come from is the hint still.
	anon := registrytest.New(t)
	anon.Faults(denyTag)
	got = push(anon)
	assertHas(t, got, "tag v1: registry "+anon.Host+" refused access (403 Forbidden"+hint)

	// Credentials accepted (blobs and the manifest went in), the tag refused.
	config := filepath.Join(home, "docker", "config.json")
	os.MkdirAll(filepath.Dir(config), 0o700)
	auth := base64.StdEncoding.EncodeToString([]byte("pusher:s3cret-push"))
	os.WriteFile(config, []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+`"}}}`), 0o600)
	got = push(reg)
	repo := reg.Host + "/app"
	assertHas(t, got, "tag v1: registry "+reg.Host+" accepted the credentials from "+config+` auths["`+reg.Host+`"], but they do not allow pushing to `+repo+
		" (403 Forbidden; or the registry keeps this tag immutable): ask for push rights to "+repo+" or log in as an identity that has them; see docs/auth.md: ",
		"DENIED")
	if strings.Contains(got, "credentials come from") {
		t.Errorf("accepted credentials get the hint for missing ones: %s", got)
	}
	if !reg.HasManifest("app", b.digest.String()) {
		t.Error("the manifest was not pushed by digest before the refused tag")
	}

	// Credentials found, and refused: the entry they came from, not the list of sources.
	wrong := base64.StdEncoding.EncodeToString([]byte("pusher:s3cret-push-old"))
	os.WriteFile(config, []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+wrong+`"}}}`), 0o600)
	got = push(reg)
	assertHas(t, got, "registry "+reg.Host+" refused the credentials from "+config+` auths["`+reg.Host+`"] (401 Unauthorized: wrong, expired or revoked): log in again (docker login `+reg.Host+") or correct that entry; see docs/auth.md: ")
	if strings.Contains(got, "credentials come from") {
		t.Errorf("refused credentials get the hint for missing ones: %s", got)
	}
}

func assertHas(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("error lacks %q", w)
		}
	}
}

// noCredentials gives the test an empty HOME and a Docker config directory without a
// config (which it returns), and no other source of registry credentials.
func noCredentials(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, "docker"))
	for _, v := range []string{"REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_AUTH_CONFIG", credentials.EnvHelpers} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	return home
}
