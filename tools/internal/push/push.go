// Package push pushes an image or index from an OCI layout to a registry. It uploads the
// blobs itself (go-containerregistry's errors would name an upload URL, not the blob), then
// the manifests, children first, and watches every request for stalls (StallTimeout).
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

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

const (
	// DefaultStallTimeout is the stall timeout when neither flag nor StallTimeoutEnv says.
	DefaultStallTimeout = 60 * time.Second
	// StallTimeoutEnv names the variable giving the stall timeout (a Go duration).
	StallTimeoutEnv = "WHARF_PUSH_STALL_TIMEOUT"
	// jobs is go-containerregistry's default parallelism, kept for the blobs wharf
	// now uploads itself.
	jobs = 4
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

// Layout pushes the one image or index the OCI layout at dir lists to repo, by digest,
// then tags it; stall (0: none) fails a request that makes no progress for that long. It
// returns the reference by digest.
func Layout(ctx context.Context, dir string, repo name.Repository, tags []string, stall time.Duration) (name.Digest, error) {
	top, tagged, err := readLayout(dir)
	if err != nil {
		return name.Digest{}, err
	}
	rt := remote.DefaultTransport
	if stall > 0 {
		rt = &stallTransport{inner: rt, idle: stall}
	}
	opts := []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithTransport(rt)}
	if Backoff != nil {
		opts = append(opts, remote.WithRetryBackoff(*Backoff))
	}
	pusher, err := remote.NewPusher(opts...)
	if err != nil {
		return name.Digest{}, err
	}
	byDigest := repo.Digest(top.String())
	if err := pushTree(ctx, pusher, repo, byDigest, tagged); err != nil {
		return name.Digest{}, fmt.Errorf("pushing %s: %w", byDigest, explainAuth(err, repo.RegistryStr()))
	}
	for _, t := range tags {
		if err := pusher.Put(ctx, repo.Tag(t), tagged); err != nil {
			return name.Digest{}, fmt.Errorf("tagging %s: %w", repo.Tag(t), explainAuth(err, repo.RegistryStr()))
		}
	}
	return byDigest, nil
}

// readLayout returns the digest of what the layout's index.json lists, which must be one
// image or index, and that image or index.
func readLayout(dir string) (v1.Hash, remote.Taggable, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return v1.Hash{}, nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return v1.Hash{}, nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return v1.Hash{}, nil, err
	}
	if len(im.Manifests) != 1 {
		return v1.Hash{}, nil, fmt.Errorf("layout %s lists %d manifests, want 1", dir, len(im.Manifests))
	}
	top := im.Manifests[0]
	if top.MediaType.IsIndex() {
		t, err := idx.ImageIndex(top.Digest)
		return top.Digest, t, err
	}
	t, err := idx.Image(top.Digest)
	return top.Digest, t, err
}

// pushTree pushes every blob, then every manifest below the top one, then the top one.
// go-containerregistry's Push would do the same walk, but its errors name the upload URL,
// which for a blob's PATCH holds no digest; uploading the blobs here lets an error name
// the blob. The pusher remembers what it uploaded, so its Push of a manifest does not
// upload (or even check) those blobs again. No manifest is sent before everything it
// refers to is in the registry.
func pushTree(ctx context.Context, pusher *remote.Pusher, repo name.Repository, topRef name.Reference, top remote.Taggable) error {
	type manifest struct {
		digest v1.Hash
		t      remote.Taggable
	}
	var blobs []v1.Layer
	var manifests []manifest
	seen := map[v1.Hash]bool{}
	addBlob := func(l v1.Layer) error {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		if !seen[d] {
			seen[d] = true
			blobs = append(blobs, l)
		}
		return nil
	}
	var walk func(t remote.Taggable) error
	walk = func(t remote.Taggable) error {
		switch t := t.(type) {
		case v1.ImageIndex:
			children, err := partial.Manifests(t)
			if err != nil {
				return err
			}
			for _, c := range children {
				switch c := c.(type) {
				case v1.ImageIndex, v1.Image:
					d, err := c.Digest()
					if err != nil {
						return err
					}
					if seen[d] {
						continue
					}
					seen[d] = true
					if err := walk(c.(remote.Taggable)); err != nil {
						return fmt.Errorf("manifest %s: %w", d, err)
					}
					manifests = append(manifests, manifest{d, c.(remote.Taggable)})
				case v1.Layer:
					if err := addBlob(c); err != nil {
						return err
					}
				}
			}
		case v1.Image:
			ls, err := t.Layers()
			if err != nil {
				return err
			}
			cfg, err := partial.ConfigLayer(t)
			if err != nil {
				return err
			}
			for _, l := range append(ls, cfg) {
				if err := addBlob(l); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(top); err != nil {
		return err
	}
	if err := uploadBlobs(ctx, pusher, repo, blobs); err != nil {
		return err
	}
	for _, m := range manifests {
		if err := pusher.Push(ctx, repo.Digest(m.digest.String()), m.t); err != nil {
			return fmt.Errorf("manifest %s: %w", m.digest, err)
		}
	}
	if err := pusher.Push(ctx, topRef, top); err != nil {
		return fmt.Errorf("manifest %s: %w", topRef.Identifier(), err)
	}
	return nil
}

// uploadBlobs uploads blobs jobs at a time and returns the first failure, naming its
// blob; that failure cancels the uploads still running.
func uploadBlobs(ctx context.Context, pusher *remote.Pusher, repo name.Repository, blobs []v1.Layer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	work := make(chan v1.Layer)
	for range min(jobs, len(blobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range work {
				if ctx.Err() != nil {
					continue
				}
				if err := pusher.Upload(ctx, repo, l); err != nil {
					d, _ := l.Digest()
					once.Do(func() {
						first = fmt.Errorf("blob %s: %w", d, err)
						cancel()
					})
				}
			}
		}()
	}
	for _, l := range blobs {
		work <- l
	}
	close(work)
	wg.Wait()
	return first
}

// explainAuth says where credentials come from when the registry refuses the request.
func explainAuth(err error, registry string) error {
	var terr *transport.Error
	if !errors.As(err, &terr) || (terr.StatusCode != http.StatusUnauthorized && terr.StatusCode != http.StatusForbidden) {
		return err
	}
	return fmt.Errorf("registry %s refused access (%d %s; credentials come from $DOCKER_CONFIG/config.json, ~/.docker/config.json or podman's auth.json: docker login %s): %w",
		registry, terr.StatusCode, http.StatusText(terr.StatusCode), registry, err)
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
