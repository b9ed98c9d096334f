package push

import (
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// uploadTransport is the transport under go-containerregistry's retries and auth. It
// opens a blob again for a request resent with a body an earlier attempt consumed (the
// bearer transport resends a request after refreshing an expired token, body and all, and
// would otherwise read a closed file), and keeps the digest a registry answers a finished
// blob upload with when it is not the digest uploaded.
type uploadTransport struct {
	inner   http.RoundTripper
	mu      sync.Mutex
	answers map[string]string // repository@uploaded digest: the answer's digest
}

func (t *uploadTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if b, ok := req.Body.(*verified); ok && b.sent.Swap(true) && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = body
		if v, ok := body.(*verified); ok {
			v.sent.Store(true)
		}
	}
	resp, err := t.inner.RoundTrip(req)
	if err == nil {
		t.note(req, resp)
	}
	return resp, err
}

// note keeps the answer to a blob upload's final PUT (?digest=) when it names another
// digest in Docker-Content-Digest.
func (t *uploadTransport) note(req *http.Request, resp *http.Response) {
	want, got := req.URL.Query().Get("digest"), resp.Header.Get("Docker-Content-Digest")
	if req.Method != http.MethodPut || resp.StatusCode != http.StatusCreated || want == "" || got == "" || got == want {
		return
	}
	repo, _, ok := strings.Cut(strings.TrimPrefix(req.URL.Path, "/v2/"), "/blobs/uploads")
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.answers == nil {
		t.answers = map[string]string{}
	}
	t.answers[repo+"@"+want] = got
}

// answered returns the digest the registry answered the upload of d to repo with, when
// it was another.
func (t *uploadTransport) answered(repo name.Repository, d v1.Hash) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	got, ok := t.answers[repo.RepositoryStr()+"@"+d.String()]
	return got, ok
}
