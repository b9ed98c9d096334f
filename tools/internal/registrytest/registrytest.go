// Package registrytest serves go-containerregistry's in-memory registry on 127.0.0.1
// behind a handler that injects faults into uploads and can require basic auth or bearer
// tokens, so tests can show what a push does when a registry misbehaves.
package registrytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Fault is what the registry does to an upload request instead of answering it.
type Fault int

const (
	// None forwards the request to the registry.
	None Fault = iota
	// Status500 answers 500 Internal Server Error without forwarding the request.
	Status500
	// Reset reads the request, then closes the connection with a TCP reset, unanswered
	// and not forwarded.
	Reset
	// Lost forwards the request, then resets the connection instead of answering: the
	// registry did the work but the client cannot know.
	Lost
	// Stall reads the request and never answers, until the registry is closed.
	Stall
	// Denied answers 403 DENIED without forwarding (a tag that is immutable, a
	// repository the credentials may not write).
	Denied
	// Expire invalidates every bearer token issued so far and answers 401 with the
	// registry's challenge, as when a token expires mid-upload.
	Expire
	// Drop answers a PUT 201 Created with the upload's digest without forwarding it: the
	// registry claims content it does not hold.
	Drop
	// WrongDigest is Drop with another digest in the answer's Docker-Content-Digest.
	WrongDigest
)

func (f Fault) String() string {
	return [...]string{"none", "500", "reset", "lost", "stall", "denied", "expire", "drop", "wrong-digest"}[f]
}

// Upload is one upload request, as a fault rule sees it.
type Upload struct {
	Method string // POST (start a blob upload), PATCH or PUT
	Kind   string // "blob" or "manifest"
	// Digest is the content's digest: the PUT's ?digest= or the sha256 of a PATCH body
	// (go-containerregistry sends a blob in one PATCH) or of a manifest; "" for a POST.
	Digest string
	// N counts requests with this Method, Kind and Digest: 1 for the first.
	N int
	// Repo is the repository and Ref a manifest's tag or digest ("" for a blob); neither
	// is part of what N counts.
	Repo, Ref string
}

// Registry is a registry for one test. Its methods other than the handler's are for the
// test's goroutine.
type Registry struct {
	// Host is 127.0.0.1:port, for references such as Host+"/repo".
	Host string

	t       testing.TB
	inner   http.Handler
	srv     *httptest.Server
	closing chan struct{}

	mu       sync.Mutex
	rule     func(Upload) Fault
	user     string
	password string
	bearer   bool            // user and password get tokens from /token
	token    string          // issued tokens are token-1, token-2, ...
	issued   int             // tokens issued so far
	valid    map[string]bool // tokens not expired
	seen     map[Upload]int  // keyed with N, Repo and Ref zero
	injected []string
}

// New starts a registry that is closed when the test ends; opts configure
// go-containerregistry's (registry.WithReferrersSupport(true) gives it the referrers API).
func New(t testing.TB, opts ...registry.Option) *Registry {
	t.Helper()
	r := &Registry{
		t:       t,
		inner:   registry.New(append([]registry.Option{registry.Logger(log.New(io.Discard, "", 0))}, opts...)...),
		closing: make(chan struct{}),
		seen:    map[Upload]int{},
		valid:   map[string]bool{},
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.Host = strings.TrimPrefix(r.srv.URL, "http://")
	t.Cleanup(func() {
		// Release stalled handlers first: Close waits for every handler to return.
		close(r.closing)
		r.srv.Close()
	})
	return r
}

// Faults sets the rule that picks a fault for each upload request; nil removes it.
func (r *Registry) Faults(rule func(Upload) Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rule = rule
}

// RequireAuth makes every request without these basic-auth credentials get 401 with a
// Basic challenge; an empty user removes the requirement.
func (r *Registry) RequireAuth(user, password string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.user, r.password = user, password
}

// RequireToken makes the registry want bearer tokens, as most public registries do: a
// request without a valid one gets 401 with a Bearer challenge naming /token, which gives
// user and password a new token (token-1, token-2, ...); an Expire fault invalidates them.
func (r *Registry) RequireToken(user, password, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.user, r.password, r.bearer, r.token = user, password, true, token
}

// Injected lists the faults injected so far, e.g. "500 PATCH blob sha256:…".
func (r *Registry) Injected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.injected...)
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/token" {
		r.issue(w, req)
		return
	}
	if !r.authorized(req) {
		r.challenge(w)
		return
	}
	r.mu.Lock()
	rule := r.rule
	r.mu.Unlock()
	up, ok := upload(req)
	if !ok || rule == nil {
		r.inner.ServeHTTP(w, req)
		return
	}
	// Read the whole body: the digest of a PATCH or manifest is its content's, and the
	// registry gets the same bytes afterwards.
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if up.Digest == "" && (up.Method == http.MethodPatch || up.Kind == "manifest") {
		sum := sha256.Sum256(body)
		up.Digest = "sha256:" + hex.EncodeToString(sum[:])
	}
	r.mu.Lock()
	key := up
	key.Repo, key.Ref = "", ""
	r.seen[key]++
	up.N = r.seen[key]
	fault := rule(up)
	if fault != None {
		r.injected = append(r.injected, fmt.Sprintf("%s %s %s %s", fault, up.Method, up.Kind, up.Digest))
	}
	r.mu.Unlock()

	switch fault {
	case None:
		r.inner.ServeHTTP(w, req)
	case Status500:
		http.Error(w, "injected fault", http.StatusInternalServerError)
	case Reset:
		reset(w)
	case Lost:
		r.inner.ServeHTTP(httptest.NewRecorder(), req)
		reset(w)
	case Stall:
		<-r.closing
	case Denied:
		writeError(w, http.StatusForbidden, "DENIED", "injected fault: "+up.Kind+" "+up.Ref+" may not be written")
	case Expire:
		r.mu.Lock()
		clear(r.valid)
		r.mu.Unlock()
		r.challenge(w)
	case Drop, WrongDigest:
		answer := up.Digest
		if fault == WrongDigest {
			sum := sha256.Sum256([]byte(up.Digest))
			answer = "sha256:" + hex.EncodeToString(sum[:])
		}
		kind := map[string]string{"blob": "blobs", "manifest": "manifests"}[up.Kind]
		w.Header().Set("Location", "/v2/"+up.Repo+"/"+kind+"/"+up.Digest)
		w.Header().Set("Docker-Content-Digest", answer)
		w.WriteHeader(http.StatusCreated)
	}
}

// authorized says whether req carries the credentials the registry wants, if any.
func (r *Registry) authorized(req *http.Request) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.user == "" {
		return true
	}
	if r.bearer {
		tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		return ok && r.valid[tok]
	}
	u, p, ok := req.BasicAuth()
	return ok && u == r.user && p == r.password
}

// challenge answers 401 with the registry's Basic or Bearer challenge.
func (r *Registry) challenge(w http.ResponseWriter) {
	r.mu.Lock()
	bearer := r.bearer
	r.mu.Unlock()
	if bearer {
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="registrytest"`)
	} else {
		w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
	}
	writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
}

// issue answers a token request: a new token for the registry's user and password.
func (r *Registry) issue(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if u, p, ok := req.BasicAuth(); !r.bearer || !ok || u != r.user || p != r.password {
		w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "token: wrong credentials")
		return
	}
	r.issued++
	tok := fmt.Sprintf("%s-%d", r.token, r.issued)
	r.valid[tok] = true
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": message}}})
}

// upload says whether req uploads a blob or a manifest, and which.
func upload(req *http.Request) (Upload, bool) {
	p := strings.TrimPrefix(req.URL.Path, "/v2/")
	if repo, _, ok := strings.Cut(p, "/blobs/uploads"); ok &&
		(req.Method == http.MethodPost || req.Method == http.MethodPatch || req.Method == http.MethodPut) {
		return Upload{Method: req.Method, Kind: "blob", Digest: req.URL.Query().Get("digest"), Repo: repo}, true
	}
	if repo, ref, ok := strings.Cut(p, "/manifests/"); ok && req.Method == http.MethodPut {
		return Upload{Method: req.Method, Kind: "manifest", Repo: repo, Ref: ref}, true
	}
	return Upload{}, false
}

// reset closes the connection under w with an RST, so the client sees ECONNRESET rather
// than a clean EOF.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(fmt.Sprintf("registrytest: cannot hijack to reset: %v", err))
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// head asks the registry itself, past faults and auth, with a HEAD request.
func (r *Registry) head(path string) bool {
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, path, nil))
	switch rec.Code {
	case http.StatusOK:
		return true
	case http.StatusNotFound:
		return false
	}
	r.t.Fatalf("HEAD %s: status %d", path, rec.Code)
	return false
}

// HasManifest says whether repo holds the manifest with this digest.
func (r *Registry) HasManifest(repo, digest string) bool {
	return r.head("/v2/" + repo + "/manifests/" + digest)
}

// HasBlob says whether repo holds the blob with this digest.
func (r *Registry) HasBlob(repo, digest string) bool {
	return r.head("/v2/" + repo + "/blobs/" + digest)
}

// Missing returns what the manifest with this digest refers to (blobs and manifests,
// recursively) that repo does not hold; nil if repo does not hold the manifest itself.
func (r *Registry) Missing(repo, digest string) []string {
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/manifests/"+digest, nil))
	if rec.Code == http.StatusNotFound {
		return nil
	}
	if rec.Code != http.StatusOK {
		r.t.Fatalf("GET manifest %s in %s: status %d", digest, repo, rec.Code)
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	}
	var m struct {
		Config    *desc  `json:"config"`
		Layers    []desc `json:"layers"`
		Manifests []desc `json:"manifests"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		r.t.Fatalf("manifest %s in %s: %v", digest, repo, err)
	}
	var missing []string
	blobs := m.Layers
	if m.Config != nil {
		blobs = append(blobs, *m.Config)
	}
	for _, b := range blobs {
		if !r.HasBlob(repo, b.Digest) {
			missing = append(missing, "blob "+b.Digest)
		}
	}
	for _, c := range m.Manifests {
		if mt := types.MediaType(c.MediaType); !mt.IsIndex() && !mt.IsImage() {
			if !r.HasBlob(repo, c.Digest) {
				missing = append(missing, "blob "+c.Digest)
			}
			continue
		}
		if !r.HasManifest(repo, c.Digest) {
			missing = append(missing, "manifest "+c.Digest)
			continue
		}
		missing = append(missing, r.Missing(repo, c.Digest)...)
	}
	return missing
}
