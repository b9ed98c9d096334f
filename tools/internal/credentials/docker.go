package credentials

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// dockerKeychain reads the Docker config as authn.DefaultKeychain does (the same file, keys
// and order: $DOCKER_AUTH_CONFIG, then credHelpers, then credsStore, then auths; podman's
// auth.json when there is no Docker config), but runs the docker-credential-* programs
// itself (see run): bounded in time, their output never quoted. Errors name the file.
type dockerKeychain struct{}

func (k dockerKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

func (k dockerKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	a, _, err := k.resolve(ctx, r)
	return a, err
}

// resolve is ResolveContext with where the credentials came from (see dockerConfig.get;
// "" for none).
func (dockerKeychain) resolve(ctx context.Context, r authn.Resource) (authn.Authenticator, string, error) {
	path := dockerConfigPath()
	if path == "" {
		return authn.Anonymous, "", nil
	}
	cfg, err := loadDockerConfig(path)
	if err != nil {
		return nil, "", err
	}
	// The repository first, then the registry, as go-containerregistry asks.
	for _, key := range []string{r.String(), r.RegistryStr()} {
		if key == name.DefaultRegistry || key == "docker.io" {
			key = authn.DefaultAuthKey
		}
		ac, source, err := cfg.get(ctx, key)
		if err != nil {
			return nil, "", err
		}
		if ac != (authn.AuthConfig{}) {
			return authn.FromConfig(ac), source, nil
		}
	}
	return authn.Anonymous, "", nil
}

// dockerConfigPath is the file authn.DefaultKeychain reads: the Docker config if
// ~/.docker/config.json or $DOCKER_CONFIG/config.json exists ($DOCKER_CONFIG's if set, which
// may then be missing: no credentials), else $REGISTRY_AUTH_FILE, else podman's auth.json
// ($XDG_RUNTIME_DIR/containers, else $XDG_CONFIG_HOME or ~/.config); "" if none exists.
func dockerConfigPath() string {
	home, _ := os.UserHomeDir()
	dir := os.Getenv("DOCKER_CONFIG")
	if (home != "" && isFile(filepath.Join(home, ".docker", "config.json"))) || (dir != "" && isFile(filepath.Join(dir, "config.json"))) {
		if dir == "" {
			dir = filepath.Join(home, ".docker")
		}
		return filepath.Join(dir, "config.json")
	}
	if p := filepath.Clean(os.Getenv("REGISTRY_AUTH_FILE")); isFile(p) {
		return p
	}
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" && isFile(filepath.Join(rt, "containers", "auth.json")) {
		return filepath.Join(rt, "containers", "auth.json")
	}
	cfgDir := os.Getenv("XDG_CONFIG_HOME")
	if cfgDir == "" && home != "" {
		cfgDir = filepath.Join(home, ".config")
	}
	if p := filepath.Join(cfgDir, "containers", "auth.json"); cfgDir != "" && isFile(p) {
		return p
	}
	return ""
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// dockerConfig is the part of a Docker config (or podman auth.json) that holds credentials.
type dockerConfig struct {
	path        string
	Auths       map[string]dockerAuth `json:"auths"`
	CredHelpers map[string]string     `json:"credHelpers"`
	CredsStore  string                `json:"credsStore"`
}

type dockerAuth struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// loadDockerConfig reads path; a missing file is an empty config, as in Docker. Errors name
// the file and never quote it.
func loadDockerConfig(path string) (*dockerConfig, error) {
	cfg := &dockerConfig{path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, err // names the file
	}
	var syntax *json.SyntaxError
	switch err := json.Unmarshal(b, cfg); {
	case errors.As(err, &syntax):
		return nil, fmt.Errorf("%s: not valid JSON at byte %d: %w", path, syntax.Offset, err)
	case err != nil:
		return nil, fmt.Errorf("%s: not a Docker config: %w", path, err)
	}
	return cfg, nil
}

// get gives key's credentials as Docker's configfile.GetAuthConfig does, and where they
// came from (`$DOCKER_AUTH_CONFIG auths["KEY"]`, `FILE auths["KEY"]`, `FILE credsStore
// (docker-credential-NAME)`): never a secret, for messages.
func (c *dockerConfig) get(ctx context.Context, key string) (authn.AuthConfig, string, error) {
	if ac, ok, err := envAuth(key); err != nil || ok {
		return ac, fmt.Sprintf("$DOCKER_AUTH_CONFIG auths[%q]", key), err
	}
	ac, source, err := c.auth(key)
	if err != nil {
		return ac, "", err
	}
	entry, helper := fmt.Sprintf("credHelpers[%q]", key), c.CredHelpers[key]
	if helper == "" {
		entry, helper = "credsStore", c.CredsStore
	}
	if helper == "" {
		return ac, source, nil
	}
	// With a helper, Docker takes the user and secret from it alone.
	ac.Username, ac.Password, ac.IdentityToken, err = dockerGet(ctx, helper, key)
	if err != nil {
		return authn.AuthConfig{}, "", fmt.Errorf("%s %s: %w", c.path, entry, err)
	}
	return ac, fmt.Sprintf("%s %s (docker-credential-%s)", c.path, entry, helper), nil
}

// auth is key's `auths` entry, and its name: the key as written, else an entry whose URL
// has key as host (Docker's legacy `https://host/v1/` keys).
func (c *dockerConfig) auth(key string) (authn.AuthConfig, string, error) {
	k, ok := key, false
	if _, ok = c.Auths[key]; !ok {
		for _, r := range slices.Sorted(maps.Keys(c.Auths)) {
			if hostOfURL(r) == key {
				k, ok = r, true
				break
			}
		}
	}
	if !ok {
		return authn.AuthConfig{}, "", nil
	}
	e := c.Auths[k]
	source := fmt.Sprintf("%s auths[%q]", c.path, k)
	ac := authn.AuthConfig{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Auth != "" {
		user, pass, err := decodeAuth(e.Auth)
		if err != nil {
			return ac, "", fmt.Errorf("%s: %w", source, err)
		}
		ac.Username, ac.Password = user, pass
	}
	return ac, source, nil
}

// hostOfURL is Docker's ConvertToHostname: the host[:port] of `scheme://host[:port]/path`.
func hostOfURL(s string) string {
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	host, _, _ := strings.Cut(s, "/")
	return host
}

// decodeAuth decodes an `auth` value (base64 of user:password); errors never quote it.
func decodeAuth(v string) (user, password string, err error) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "", "", errors.New("`auth` is not base64")
	}
	user, password, ok := strings.Cut(string(b), ":")
	if !ok || user == "" {
		return "", "", errors.New("`auth` is not base64 of user:password")
	}
	return user, strings.Trim(password, "\x00"), nil
}

// envAuth is key's entry of $DOCKER_AUTH_CONFIG ({"auths": {KEY: {"auth": BASE64}}}),
// which Docker consults before the config's stores.
func envAuth(key string) (authn.AuthConfig, bool, error) {
	v := os.Getenv("DOCKER_AUTH_CONFIG")
	if v == "" {
		return authn.AuthConfig{}, false, nil
	}
	var env struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	if err := json.Unmarshal([]byte(v), &env); err != nil {
		return authn.AuthConfig{}, false, errors.New("$DOCKER_AUTH_CONFIG is not JSON of the form {\"auths\": {\"REGISTRY\": {\"auth\": \"BASE64\"}}}")
	}
	e, ok := env.Auths[key]
	if !ok {
		return authn.AuthConfig{}, false, nil
	}
	user, pass, err := decodeAuth(e.Auth)
	if err != nil {
		return authn.AuthConfig{}, false, fmt.Errorf("$DOCKER_AUTH_CONFIG auths[%q]: %w", key, err)
	}
	return authn.AuthConfig{Username: user, Password: pass}, true, nil
}

// dockerNotFound is what a docker-credential-* program prints for a server it has nothing for.
const dockerNotFound = "credentials not found in native keychain"

// dockerGet runs `docker-credential-NAME get` with server on stdin (Docker's protocol).
// It gives empty credentials when the program has none for server; a username of
// `<token>` makes the secret an identity token, as in Docker.
func dockerGet(ctx context.Context, helper, server string) (user, secret, identity string, err error) {
	prog := "docker-credential-" + helper
	out, err := run(ctx, "", []string{prog, "get"}, []byte(server))
	var exit *exec.ExitError
	if errors.As(err, &exit) && strings.TrimSpace(string(out)) == dockerNotFound {
		return "", "", "", nil
	}
	if err != nil {
		return "", "", "", fmt.Errorf("%s for %s: %w", prog, server, err)
	}
	var resp struct{ Username, Secret string }
	if json.Unmarshal(out, &resp) != nil {
		// Not the JSON error: it may quote the output, which may be a secret.
		return "", "", "", fmt.Errorf("%s for %s: its output is not the JSON {\"Username\": ..., \"Secret\": ...} of Docker's credential helper protocol", prog, server)
	}
	if resp.Username == "<token>" {
		return "", "", resp.Secret, nil
	}
	return resp.Username, resp.Secret, "", nil
}
