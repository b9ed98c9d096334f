package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// EnvHelpers is the environment variable holding --credential_helper values, separated by
// white space.
const EnvHelpers = "WHARF_CREDENTIAL_HELPERS"

// Helper is one `--credential_helper=[SCOPE=]PATH` value.
type Helper struct {
	// Scope is "" (every host), a host ("registry.example.com") or a wildcard
	// ("*.example.com": that domain and every host below it).
	Scope string
	// Path is the helper program: absolute, or a name looked up on PATH when run.
	Path string
	// Dir is the working directory it runs in (Bazel: the workspace; "" = ours).
	Dir string
}

// String is the flag value, for messages.
func (h Helper) String() string {
	if h.Scope == "" {
		return h.Path
	}
	return h.Scope + "=" + h.Path
}

// ParseHelper parses a `--credential_helper` value as Bazel does: `[SCOPE=]PATH`, where
// SCOPE is a host or `*.domain` and PATH is absolute, `%workspace%/...` (resolved against
// workspace, which is also the helper's working directory) or a program name on PATH.
func ParseHelper(value, workspace string) (Helper, error) {
	h := Helper{Path: value, Dir: workspace}
	if scope, path, ok := strings.Cut(value, "="); ok {
		h.Scope, h.Path = scope, path
		if err := checkScope(scope); err != nil {
			return Helper{}, fmt.Errorf("credential helper %q: %w", value, err)
		}
	}
	switch {
	case h.Path == "":
		return Helper{}, fmt.Errorf("credential helper %q: no program path", value)
	case strings.HasPrefix(h.Path, "%workspace%/"):
		if workspace == "" {
			return Helper{}, fmt.Errorf("credential helper %q: %%workspace%% is unknown here (not run by `bazel run`)", value)
		}
		h.Path = filepath.Join(workspace, strings.TrimPrefix(h.Path, "%workspace%/"))
	case filepath.IsAbs(h.Path):
	case strings.Contains(h.Path, "/"):
		return Helper{}, fmt.Errorf("credential helper %q: the path must be absolute, %%workspace%%/..., or a program name on PATH", value)
	}
	return h, nil
}

// ParseHelpers parses several values (in order: a later one for the same scope wins).
func ParseHelpers(values []string, workspace string) ([]Helper, error) {
	var out []Helper
	for _, v := range values {
		h, err := ParseHelper(v, workspace)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// HelpersFromEnv parses $WHARF_CREDENTIAL_HELPERS.
func HelpersFromEnv(workspace string) ([]Helper, error) {
	hs, err := ParseHelpers(strings.Fields(os.Getenv(EnvHelpers)), workspace)
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", EnvHelpers, err)
	}
	return hs, nil
}

func checkScope(scope string) error {
	host := strings.TrimPrefix(scope, "*.")
	if host == "" || strings.ContainsAny(host, "*/:@ \t") || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") {
		return fmt.Errorf("scope %q must be a host name (registry.example.com) or *.domain (*.example.com), without scheme, port or path", scope)
	}
	return nil
}

// find picks the helper for host as Bazel does: an exact scope, else the closest wildcard
// (`*.b.c` before `*.c`), else one without scope; for the same scope the last one given.
func find(helpers []Helper, host string) (Helper, bool) {
	pick := func(scope string) (Helper, bool) {
		for i := len(helpers) - 1; i >= 0; i-- {
			if helpers[i].Scope == scope {
				return helpers[i], true
			}
		}
		return Helper{}, false
	}
	host = strings.ToLower(host)
	if h, ok := pick(host); ok {
		return h, true
	}
	for d := host; d != ""; {
		if h, ok := pick("*." + d); ok {
			return h, true
		}
		_, parent, ok := strings.Cut(d, ".")
		if !ok {
			break
		}
		d = parent
	}
	return pick("")
}

// Headers are HTTP headers a helper gives for a URI.
type Headers map[string][]string

// getter runs helpers and remembers their answers per helper and URI for its lifetime
// (Bazel caches them too; a push or a lock is one short process).
type getter struct {
	mu    sync.Mutex
	cache map[string]Headers
}

// get runs `PATH get` with {"uri": uri} on stdin (see run) and parses {"headers": {...}}.
// Errors name the helper and the URI; its output is never quoted (it may hold a secret),
// its stderr is.
func (g *getter) get(ctx context.Context, h Helper, uri string) (Headers, error) {
	key := h.Path + "\x00" + h.Dir + "\x00" + uri
	g.mu.Lock()
	defer g.mu.Unlock()
	if hd, ok := g.cache[key]; ok {
		return hd, nil
	}
	req, err := json.Marshal(map[string]string{"uri": uri})
	if err != nil {
		return nil, err
	}
	out, err := run(ctx, h.Dir, []string{h.Path, "get"}, req)
	if err != nil {
		return nil, fmt.Errorf("credential helper %s for %s: %w", h, uri, err)
	}
	var resp struct {
		Headers Headers `json:"headers"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		// Not %w: a JSON error may quote the output, and the output may be a secret.
		return nil, fmt.Errorf("credential helper %s for %s: its output is not the JSON {\"headers\": {...}} of the credential helper protocol", h, uri)
	}
	if g.cache == nil {
		g.cache = map[string]Headers{}
	}
	g.cache[key] = resp.Headers
	return resp.Headers, nil
}

// authorization is the Authorization header among hs ("" if none).
func (hs Headers) authorization() (string, error) {
	var vals []string
	for k, v := range hs {
		if strings.EqualFold(k, "Authorization") {
			vals = append(vals, v...)
		}
	}
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	}
	return "", errors.New("it gave several Authorization headers")
}
