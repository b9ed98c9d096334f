// Package push pushes images and indexes to registries from what a build left behind: the
// manifests and configs in a plan's runfiles (ReadPlan), the layer blobs from wherever they
// are (the output tree, a remote or disk cache, the registry they were pulled from; Source).
// It checks which blobs each repository lacks, sends each missing blob once per registry
// (mounting it across repositories), then the manifests, children first, then the tags,
// and reads the digests back. Every request is watched for stalls (StallTimeout).
package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
)

const (
	// DefaultStallTimeout is the stall timeout when neither flag nor StallTimeoutEnv says.
	DefaultStallTimeout = 60 * time.Second
	// StallTimeoutEnv names the variable giving the stall timeout (a Go duration).
	StallTimeoutEnv = "WHARF_PUSH_STALL_TIMEOUT"
)

// Backoff, when set, replaces go-containerregistry's retry backoff (waits of 1s and 3s);
// tests shorten it so that retried faults do not cost seconds each.
var Backoff *remote.Backoff

// StallTimeout is the stall timeout to use: flag when given, else StallTimeoutEnv's value
// if set, else flag (the default). It refuses a negative one.
func StallTimeout(flag time.Duration, given bool) (time.Duration, error) {
	if v := os.Getenv(StallTimeoutEnv); v != "" && !given {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%s=%q: %w", StallTimeoutEnv, v, err)
		}
		flag = d
	}
	if flag < 0 {
		return 0, fmt.Errorf("stall timeout %s is negative (0 disables it)", flag)
	}
	return flag, nil
}

// explainAuth says where credentials come from when the registry refuses the request.
func explainAuth(err error, registry string) error {
	var terr *transport.Error
	if !errors.As(err, &terr) || (terr.StatusCode != http.StatusUnauthorized && terr.StatusCode != http.StatusForbidden) {
		return err
	}
	return fmt.Errorf("registry %s refused access (%d %s; credentials come from a Bazel credential helper (--credential-helper, $WHARF_CREDENTIAL_HELPERS, the .bazelrc's --credential_helper), else $DOCKER_CONFIG/config.json or ~/.docker/config.json (auths, credHelpers, credsStore) or podman's auth.json: docker login %s; see docs/auth.md): %w",
		registry, terr.StatusCode, http.StatusText(terr.StatusCode), registry, err)
}

// explainRefusal is explainAuth for a push to repo, except where the keychain found
// credentials: then it names where they came from (never what they are), as the list of
// every place credentials may come from is no help. A 401 refused them (wrong, expired);
// a 403 accepted them, but they lack push rights to repo.
func (e *engine) explainRefusal(err error, repo name.Repository) error {
	var terr *transport.Error
	if !errors.As(err, &terr) || (terr.StatusCode != http.StatusUnauthorized && terr.StatusCode != http.StatusForbidden) {
		return err
	}
	source := credentials.Source(e.opts.Keychain, repo)
	switch {
	case source == "":
		return explainAuth(err, repo.RegistryStr())
	case terr.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("registry %s refused the credentials from %s (401 Unauthorized: wrong, expired or revoked): log in again (docker login %s) or correct that entry; see docs/auth.md: %w",
			repo.RegistryStr(), source, repo.RegistryStr(), err)
	}
	return fmt.Errorf("registry %s accepted the credentials from %s, but they do not allow pushing to %s (403 Forbidden; or the registry keeps this tag immutable): ask for push rights to %s or log in as an identity that has them; see docs/auth.md: %w",
		repo.RegistryStr(), source, repo, repo, err)
}

// stallError is what a request that stopped making progress fails with. It is temporary,
// so go-containerregistry retries it as it does a reset connection.
type stallError struct{ idle time.Duration }

func (e *stallError) Error() string {
	return fmt.Sprintf("no progress for %s (stall timeout; --stall-timeout or %s raise it)", e.idle, StallTimeoutEnv)
}

func (e *stallError) Temporary() bool { return true }

// stallTransport cancels a request once it has gone idle for longer than idle: no bytes
// of its body read by the transport below and no bytes of the response read by the
// caller. A large blob that keeps moving is never cut off, however long it takes.
type stallTransport struct {
	inner http.RoundTripper
	idle  time.Duration
}

func (t *stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	w := newWatch(req.Context(), t.idle)
	out := req.WithContext(w.ctx)
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = &watchedBody{rc: req.Body, w: w}
	}
	if req.GetBody != nil {
		// http.Transport rewinds with GetBody when it resends on a fresh connection; the
		// rewound body must count as progress too.
		out.GetBody = func() (io.ReadCloser, error) {
			b, err := req.GetBody()
			if err != nil || b == nil || b == http.NoBody {
				return b, err
			}
			return &watchedBody{rc: b, w: w}, nil
		}
	}
	resp, err := t.inner.RoundTrip(out)
	if err != nil {
		w.stop()
		if w.stalled.Load() {
			return nil, &stallError{t.idle}
		}
		return nil, err
	}
	w.progress()
	resp.Body = &watchedBody{rc: resp.Body, w: w, response: true}
	return resp, nil
}

// watch is one request's idle timer. Reads store the time of the last progress; the timer
// compares against it when it fires instead of being reset on every read.
type watch struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	idle    time.Duration
	last    atomic.Int64 // UnixNano of the last progress
	stalled atomic.Bool

	mu      sync.Mutex // guards timer and stopped, so check never races newWatch or stop
	timer   *time.Timer
	stopped bool
}

func newWatch(parent context.Context, idle time.Duration) *watch {
	w := &watch{idle: idle}
	w.ctx, w.cancel = context.WithCancelCause(parent)
	w.progress()
	w.mu.Lock()
	w.timer = time.AfterFunc(idle, w.check)
	w.mu.Unlock()
	return w
}

func (w *watch) progress() { w.last.Store(time.Now().UnixNano()) }

func (w *watch) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	if left := w.idle - time.Since(time.Unix(0, w.last.Load())); left > 0 {
		w.timer.Reset(left)
		return
	}
	w.stalled.Store(true)
	w.cancel(&stallError{w.idle})
}

// stop ends the watch and releases the request's context.
func (w *watch) stop() {
	w.mu.Lock()
	w.stopped = true
	w.timer.Stop()
	w.mu.Unlock()
	w.cancel(nil)
}

// watchedBody counts reads of a request or response body as progress. A response body
// ends the watch when it is read to the end or closed.
type watchedBody struct {
	rc       io.ReadCloser
	w        *watch
	response bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.w.progress()
	}
	if err != nil && err != io.EOF && b.w.stalled.Load() {
		return n, &stallError{b.w.idle}
	}
	if err == io.EOF && b.response {
		b.w.stop()
	}
	return n, err
}

func (b *watchedBody) Close() error {
	if b.response {
		defer b.w.stop()
	}
	return b.rc.Close()
}
