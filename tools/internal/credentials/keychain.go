// Package credentials owns wharf's registry and repository credentials.
//
// Registries (push): Keychain(helpers) is a go-containerregistry authn.Keychain that asks,
// for a registry host, the Bazel credential helper whose scope matches it (Bazel's
// `--credential_helper=[SCOPE=]PATH` protocol: `PATH get`, {"uri": ...} on stdin,
// {"headers": {"Authorization": [...]}} on stdout; Basic becomes username and password,
// Bearer a registry token), and otherwise the Docker config as authn.DefaultKeychain reads
// it: `auths`, `credHelpers` and `credsStore` (running `docker-credential-NAME`),
// $DOCKER_CONFIG, $REGISTRY_AUTH_FILE and podman's containers/auth.json. Every helper runs
// within HelperTimeout (see run), with its child processes killed at the limit.
//
//	helpers, err := credentials.ParseHelpers(flagValues, os.Getenv("BUILD_WORKSPACE_DIRECTORY"))
//	env, err := credentials.HelpersFromEnv(workspace) // $WHARF_CREDENTIAL_HELPERS
//	remote.Write(ref, img, remote.WithAuthFromKeychain(credentials.Keychain(append(env, helpers...))))
//
// Plain HTTP (APK repositories, `wharf lock`): Transport(base, helpers, netrc) adds a
// helper's headers for the URL, else the netrc entry of the host (LoadNetrc: $NETRC, else
// ~/.netrc), to requests that carry no Authorization.
//
// Credentials are never printed or logged: errors name the registry or URL and the helper,
// and quote a helper's stderr but never its output.
package credentials

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Keychain resolves a registry's credentials from the Bazel credential helper that applies
// to its host (see find), else from the Docker config (read as authn.DefaultKeychain reads
// it, see dockerKeychain).
func Keychain(helpers []Helper) authn.Keychain {
	return &keychain{helpers: helpers, sources: map[string]string{}}
}

type keychain struct {
	helpers []Helper
	docker  dockerKeychain
	g       getter

	mu      sync.Mutex
	sources map[string]string // resource → where its credentials came from (see Source)
}

func (k *keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

func (k *keychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	a, source, err := k.resolve(ctx, r)
	if err == nil {
		k.mu.Lock()
		k.sources[r.String()] = source
		k.mu.Unlock()
	}
	return a, err
}

// resolve is ResolveContext with where the credentials came from ("" for none).
func (k *keychain) resolve(ctx context.Context, r authn.Resource) (authn.Authenticator, string, error) {
	reg := r.RegistryStr()
	if h, ok := find(k.helpers, hostOf(reg)); ok {
		hd, err := k.g.get(ctx, h, resourceURI(r))
		if err != nil {
			return nil, "", fmt.Errorf("registry %s: %w", reg, err)
		}
		a, err := hd.authorization()
		if err == nil && a != "" {
			var cfg authn.AuthConfig
			cfg, err = parseAuthorization(a)
			if err == nil {
				return authn.FromConfig(cfg), "the Bazel credential helper " + h.String(), nil
			}
		}
		if err != nil {
			return nil, "", fmt.Errorf("registry %s: credential helper %s: %w", reg, h, err)
		}
		// The helper has nothing for this host: the Docker config may.
	}
	a, source, err := k.docker.resolve(ctx, r)
	if err != nil {
		return nil, "", fmt.Errorf("registry %s: credentials from the Docker config: %w", reg, err)
	}
	return a, source, nil
}

// Source says where kc (a Keychain) last found the credentials of r (a repository, as
// push resolves it), never what they are: "the Bazel credential helper PATH",
// `FILE auths["HOST"]`, `FILE credHelpers["HOST"] (docker-credential-NAME)`, ... It is ""
// when none were found (anonymous) or kc is another keychain.
func Source(kc authn.Keychain, r authn.Resource) string {
	k, ok := kc.(*keychain)
	if !ok {
		return ""
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sources[r.String()]
}

// resourceURI is the URL a helper is asked about: the repository's (or registry's) /v2/ API.
func resourceURI(r authn.Resource) string {
	scheme := "https"
	if s, ok := r.(interface{ Scheme() string }); ok {
		scheme = s.Scheme()
	}
	path := "/v2/"
	if s, ok := r.(interface{ RepositoryStr() string }); ok && s.RepositoryStr() != "" {
		path += s.RepositoryStr() + "/"
	}
	return scheme + "://" + r.RegistryStr() + path
}

// hostOf drops the port of a registry (helpers' scopes are host names, as in Bazel).
func hostOf(reg string) string {
	if strings.HasPrefix(reg, "[") {
		if i := strings.Index(reg, "]"); i > 0 {
			return reg[1:i]
		}
	}
	if i := strings.LastIndex(reg, ":"); i >= 0 && !strings.Contains(reg[:i], ":") {
		return reg[:i]
	}
	return reg
}

// parseAuthorization maps an Authorization header to go-containerregistry's AuthConfig:
// Basic to username and password (so token exchanges can use them), Bearer to a registry
// token. Errors never quote the value.
func parseAuthorization(v string) (authn.AuthConfig, error) {
	scheme, cred, _ := strings.Cut(strings.TrimSpace(v), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Basic"):
		b, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return authn.AuthConfig{}, errors.New("its Basic Authorization header is not base64")
		}
		user, pass, ok := strings.Cut(string(b), ":")
		if !ok {
			return authn.AuthConfig{}, errors.New("its Basic Authorization header is not base64 of user:password")
		}
		return authn.AuthConfig{Username: user, Password: pass}, nil
	case strings.EqualFold(scheme, "Bearer") && cred != "":
		return authn.AuthConfig{RegistryToken: cred}, nil
	}
	return authn.AuthConfig{}, errors.New("its Authorization header is neither `Basic <base64>` nor `Bearer <token>`")
}
