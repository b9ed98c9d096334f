package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options configure a push.
type Options struct {
	// Keychain gives registry credentials; nil means authn.DefaultKeychain.
	Keychain authn.Keychain
	// Stall fails a registry request that makes no progress for this long; 0: never.
	Stall time.Duration
	// Sources are asked, in order, for a layer blob not found in the output tree (remote
	// cache, disk cache); the registry a blob was pulled from is asked last.
	Sources []Source
	// Jobs is how many blobs move at once; 0 means 8.
	Jobs int
	// Progress, when set, receives a progress line now and then (a terminal).
	Progress io.Writer
	// Signing, when set, signs every pushed manifest and attaches the attestations.
	Signing *Signing
}

// Request is one target to push to one repository, with its tags.
type Request struct {
	Target     *Target
	Repository name.Repository
	Tags       []string
}

// Count is a number of blobs and their bytes.
type Count struct {
	Blobs int
	Bytes int64
}

func (c *Count) add(size int64) { c.Blobs++; c.Bytes += size }

// Status is what became of one request.
type Status int

const (
	// Skipped: not attempted (the push was interrupted first).
	Skipped Status = iota
	// Pushed: its blobs, manifests and tags are in the registry, read back.
	Pushed
	// Failed: Err says why; blobs sent before the failure stay in the registry.
	Failed
)

func (s Status) String() string { return [...]string{"skipped", "pushed", "failed"}[s] }

// Result is what push did for one request.
type Result struct {
	Label   string
	Ref     name.Digest
	Tags    []string
	Status  Status
	Err     error // why it failed or was skipped
	Sent    Count // uploaded from a source
	Present Count // already in the repository
	Mounted Count // mounted from another repository of the registry
	// From counts the sent blobs by the source they came from.
	From map[string]*Count
	// Signed and Attested count the signatures and attestations attached.
	Signed, Attested int
}

// outcome is how one blob got into one repository.
type outcome int

const (
	present outcome = iota
	mounted
	sent
)

// need is one blob one repository must hold.
type need struct {
	repo   name.Repository
	result *Result
	label  string // the target first needing it, for messages
	top    name.Digest
}

// blobTask moves one blob into every repository of one registry that needs it: the first
// gets it from a source (unless present), the others by mount from the first.
type blobTask struct {
	desc   v1.Descriptor
	kind   string // "layer" or "config"
	local  []string
	origin *name.Repository
	config []byte // a config's bytes
	needs  []need
}

// Push pushes every request: blobs first (each once per registry), then manifests, tags,
// and a read-back of every digest. Requests are independent: one that fails (a blob, a
// refused tag) does not stop the others. It returns one Result per request, in order,
// and an error joining the failed requests' errors.
func Push(ctx context.Context, reqs []Request, opts Options) ([]Result, error) {
	e, err := newEngine(ctx, opts)
	if err != nil {
		return nil, err
	}
	results, manifests, order := e.plan(reqs)
	e.progress.total(order)
	stop := e.progress.start(opts.Progress)
	e.moveBlobs(ctx, order)
	stop()
	var errs []error
	for i, r := range reqs {
		res := &results[i]
		switch {
		case res.Status == Failed:
		case ctx.Err() != nil:
			res.Err = fmt.Errorf("not attempted: the push was interrupted (%w)", ctx.Err())
		default:
			res.Status = Pushed
			if err := e.putManifests(ctx, r, manifests[i]); err != nil {
				res.Status, res.Err = Failed, err
			} else if opts.Signing != nil {
				if err := e.sign(ctx, r, manifests[i], res); err != nil {
					res.Status, res.Err = Failed, fmt.Errorf("pushed, but signing failed: %w", err)
				}
			}
		}
		if res.Err != nil {
			errs = append(errs, fmt.Errorf("pushing %s (%s): %w", res.Label, res.Ref, res.Err))
		}
	}
	return results, errors.Join(errs...)
}

func newEngine(ctx context.Context, opts Options) (*engine, error) {
	if opts.Keychain == nil {
		opts.Keychain = authn.DefaultKeychain
	}
	if opts.Jobs <= 0 {
		opts.Jobs = 8
	}
	up := &uploadTransport{inner: stallRoundTripper(opts.Stall)}
	ropts := remoteOptions(ctx, opts.Keychain, up)
	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		return nil, err
	}
	return &engine{opts: opts, rt: up, uploads: up, ropts: ropts, pusher: pusher,
		clients: map[string]*http.Client{}, down: map[string]error{}}, nil
}

// stallRoundTripper is the default transport, cut off after stall without progress (0: never).
func stallRoundTripper(stall time.Duration) http.RoundTripper {
	if stall <= 0 {
		return remote.DefaultTransport
	}
	return &stallTransport{inner: remote.DefaultTransport, idle: stall}
}

// remoteOptions are go-containerregistry's options for a request to a registry through rt,
// with kc's credentials (and the tests' Backoff).
func remoteOptions(ctx context.Context, kc authn.Keychain, rt http.RoundTripper) []remote.Option {
	opts := []remote.Option{remote.WithAuthFromKeychain(kc), remote.WithTransport(rt), remote.WithContext(ctx)}
	if Backoff != nil {
		opts = append(opts, remote.WithRetryBackoff(*Backoff))
	}
	return opts
}

// plan walks every request's manifests and returns its Result (Failed when its plan is
// inconsistent), its manifests, and the blob tasks, one per registry and digest.
func (e *engine) plan(reqs []Request) ([]Result, [][]rawManifest, []*blobTask) {
	results := make([]Result, len(reqs))
	manifests := make([][]rawManifest, len(reqs))
	tasks := map[string]*blobTask{} // registry + digest
	var order []*blobTask
	for i, r := range reqs {
		top := r.Repository.Digest(r.Target.Top.Digest.String())
		results[i] = Result{Label: r.Target.Label, Ref: top, Tags: r.Tags, From: map[string]*Count{}}
		ms, blobs, err := r.Target.walk()
		if err != nil {
			results[i].Status, results[i].Err = Failed, err
			continue
		}
		manifests[i] = ms
		seen := map[v1.Hash]bool{}
		for _, b := range blobs {
			if seen[b.desc.Digest] {
				continue
			}
			seen[b.desc.Digest] = true
			key := r.Repository.RegistryStr() + "/" + b.desc.Digest.String()
			t := tasks[key]
			if t == nil {
				t = b
				tasks[key] = t
				order = append(order, t)
			} else if t.origin == nil {
				t.origin = b.origin
			}
			t.needs = append(t.needs, need{repo: r.Repository, result: &results[i], label: r.Target.Label, top: top})
		}
	}
	return results, manifests, order
}

type engine struct {
	opts     Options
	rt       http.RoundTripper
	uploads  *uploadTransport
	ropts    []remote.Option
	pusher   *remote.Pusher
	mu       sync.Mutex
	clients  map[string]*http.Client // per repository, authorized to push
	down     map[string]error        // registries that failed to answer, by name
	rmu      sync.Mutex              // guards the Results
	progress progress
}

// moveBlobs runs the blob tasks Jobs at a time. A blob that fails fails the requests
// needing it; their other blobs are not moved.
func (e *engine) moveBlobs(ctx context.Context, tasks []*blobTask) {
	var wg sync.WaitGroup
	work := make(chan *blobTask)
	for range min(e.opts.Jobs, len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				e.move(ctx, t)
			}
		}()
	}
	for _, t := range tasks {
		work <- t
	}
	close(work)
	wg.Wait()
}

// move puts one blob into every repository needing it for a request not failed yet.
func (e *engine) move(ctx context.Context, t *blobTask) {
	defer e.progress.blobDone()
	var have *name.Repository // a repository of this registry known to hold the blob
	for _, n := range t.needs {
		if ctx.Err() != nil || e.failed(n.result) {
			continue // interrupted: the request stays Skipped
		}
		how, from, err := e.place(ctx, t, n.repo, have)
		if err != nil {
			e.fail(n.result, fmt.Errorf("%s blob %s: %w", t.kind, t.desc.Digest, e.explainRefusal(err, n.repo)))
			continue
		}
		r := n.repo
		have = &r
		e.count(n.result, t.desc.Size, how, from)
	}
}

func (e *engine) failed(r *Result) bool {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	return r.Status == Failed
}

// fail marks r failed with err, unless it failed already.
func (e *engine) fail(r *Result, err error) {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	if r.Status != Failed {
		r.Status, r.Err = Failed, err
	}
}

func (e *engine) count(r *Result, size int64, how outcome, from string) {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	switch how {
	case present:
		r.Present.add(size)
	case mounted:
		r.Mounted.add(size)
	case sent:
		r.Sent.add(size)
		c := r.From[from]
		if c == nil {
			c = &Count{}
			r.From[from] = c
		}
		c.add(size)
	}
}

// place puts the blob into repo unless it is there, by mount from have (or the pulled
// image's repository) when it can, then checks that the registry holds it.
func (e *engine) place(ctx context.Context, t *blobTask, repo name.Repository, have *name.Repository) (outcome, string, error) {
	if err := e.isDown(repo); err != nil {
		return 0, "", err
	}
	ok, err := e.exists(ctx, repo, t.desc.Digest)
	if err != nil {
		return 0, "", e.noteDown(repo, err)
	}
	if ok {
		return present, "", nil
	}
	mountFrom := have
	if mountFrom == nil && t.origin != nil && t.origin.RegistryStr() == repo.RegistryStr() && t.origin.RepositoryStr() != repo.RepositoryStr() {
		mountFrom = t.origin
	}
	how, from, err := e.upload(ctx, t, repo, mountFrom)
	if err != nil {
		return 0, "", err
	}
	return how, from, e.check(ctx, t, repo)
}

// check fails unless the registry holds the blob it accepted: its answer named the blob's
// digest, and a HEAD finds it in repo.
func (e *engine) check(ctx context.Context, t *blobTask, repo name.Repository) error {
	if got, ok := e.uploads.answered(repo, t.desc.Digest); ok {
		return fmt.Errorf("the registry answered its upload to %s with Docker-Content-Digest %s, not the blob's", repo, got)
	}
	ok, err := e.exists(ctx, repo, t.desc.Digest)
	if err != nil {
		return fmt.Errorf("checking that %s holds it after its upload: %w", repo, err)
	}
	if !ok {
		return fmt.Errorf("the registry accepted its upload to %s but does not hold it (HEAD: 404 Not Found)", repo)
	}
	return nil
}

// noteDown remembers a registry that could not be reached for a HEAD (the connection
// failed or stalled), so that its other blobs fail at once instead of each retrying. An
// answer (any HTTP status) may concern one repository only, and an upload's failure may
// be its source's (a cache whose stream broke), so neither is remembered.
func (e *engine) noteDown(repo name.Repository, err error) error {
	var op *net.OpError
	var stall *stallError
	if errors.As(err, &op) || errors.As(err, &stall) {
		e.mu.Lock()
		if e.down[repo.RegistryStr()] == nil {
			e.down[repo.RegistryStr()] = err
		}
		e.mu.Unlock()
	}
	return err
}

func (e *engine) isDown(repo name.Repository) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.down[repo.RegistryStr()]; err != nil {
		return fmt.Errorf("not attempted: registry %s failed another blob: %w", repo.RegistryStr(), err)
	}
	return nil
}

// upload sends the blob to repo, by mount from mountFrom when given (go-containerregistry
// falls back to sending it when the registry declines the mount). It says which it was
// and, when sent, from which source. A source whose bytes turn out not to be the blob
// (a stale output-tree file) is dropped and the blob sent again from the next.
func (e *engine) upload(ctx context.Context, t *blobTask, repo name.Repository, mountFrom *name.Repository) (outcome, string, error) {
	l := &sourcedLayer{e: e, t: t}
	for {
		wrong := l.wrongCount()
		how, err := e.uploadFrom(ctx, l, repo, mountFrom)
		if err == nil || l.wrongCount() == wrong {
			return how, l.source, err
		}
		mountFrom = nil
	}
}

func (e *engine) uploadFrom(ctx context.Context, l *sourcedLayer, repo name.Repository, mountFrom *name.Repository) (outcome, error) {
	if mountFrom == nil {
		// Find the bytes before opening an upload, so that a blob found nowhere leaves no
		// upload session behind and its error lists where push looked.
		if err := l.find(ctx); err != nil {
			return 0, err
		}
	}
	var up v1.Layer = l
	if mountFrom != nil {
		up = &remote.MountableLayer{Layer: l, Reference: mountFrom.Digest(l.t.desc.Digest.String())}
	}
	opened := l.opened.Load()
	err := e.pusher.Upload(ctx, repo, up)
	l.closePending()
	if err != nil {
		return 0, err
	}
	if l.opened.Load() == opened {
		return mounted, nil
	}
	return sent, nil
}

// exists asks the registry whether repo holds the blob (HEAD /v2/<repo>/blobs/<digest>).
func (e *engine) exists(ctx context.Context, repo name.Repository, d v1.Hash) (bool, error) {
	c, err := e.client(ctx, repo)
	if err != nil {
		return false, err
	}
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), d)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	default:
		return false, transport.CheckError(resp, http.StatusOK, http.StatusNotFound)
	}
}

// client returns an HTTP client authorized to push to repo, one per repository.
func (e *engine) client(ctx context.Context, repo name.Repository) (*http.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.clients[repo.String()]; c != nil {
		return c, nil
	}
	auth, err := e.opts.Keychain.Resolve(repo)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", repo.RegistryStr(), err)
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, e.rt, []string{repo.Scope(transport.PushScope)})
	if err != nil {
		return nil, err
	}
	c := &http.Client{Transport: tr}
	e.clients[repo.String()] = c
	return c, nil
}

// putManifests puts a request's manifests by digest, children first, then its tags, and
// reads the top digest back by digest and by every tag.
func (e *engine) putManifests(ctx context.Context, r Request, ms []rawManifest) error {
	failed := func(what string, err error) error {
		return fmt.Errorf("%s: %w", what, e.explainRefusal(err, r.Repository))
	}
	for _, m := range ms {
		if err := e.pusher.Put(ctx, r.Repository.Digest(m.digest.String()), m); err != nil {
			return failed("manifest "+m.digest.String(), err)
		}
	}
	top := ms[len(ms)-1]
	for _, tag := range r.Tags {
		if err := e.pusher.Put(ctx, r.Repository.Tag(tag), top); err != nil {
			return failed("tag "+tag, err)
		}
	}
	refs := []name.Reference{r.Repository.Digest(top.digest.String())}
	for _, tag := range r.Tags {
		refs = append(refs, r.Repository.Tag(tag))
	}
	for _, ref := range refs {
		d, err := remote.Head(ref, e.ropts...)
		if err != nil {
			return failed("reading back "+ref.String(), err)
		}
		if d.Digest != top.digest {
			return fmt.Errorf("reading back %s: the registry has %s, not the pushed %s", ref, d.Digest, top.digest)
		}
	}
	return nil
}

// rawManifest is a manifest or index as bytes, for Pusher.Put.
type rawManifest struct {
	digest    v1.Hash
	mediaType types.MediaType
	raw       []byte
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }
func (m rawManifest) Digest() (v1.Hash, error)            { return m.digest, nil }
func (m rawManifest) Size() (int64, error)                { return int64(len(m.raw)), nil }
func (m rawManifest) Descriptor() (*v1.Descriptor, error) { return nil, errors.New("unused") }

// walk returns the target's manifests, children before parents (the top one last), and
// every blob they refer to.
func (t *Target) walk() ([]rawManifest, []*blobTask, error) {
	w := &walker{t: t, seen: map[v1.Hash]bool{}}
	if err := w.visit(t.Top); err != nil {
		return nil, nil, err
	}
	return w.manifests, w.blobs, nil
}

// walker collects a target's manifests and blobs, each once.
type walker struct {
	t         *Target
	manifests []rawManifest
	blobs     []*blobTask
	seen      map[v1.Hash]bool
}

// visit adds an index or image manifest after what it refers to.
func (w *walker) visit(d v1.Descriptor) error {
	if w.seen[d.Digest] {
		return nil
	}
	w.seen[d.Digest] = true
	raw, ok := w.t.manifests[d.Digest]
	if !ok {
		return fmt.Errorf("manifest %s is not in the plan", d.Digest)
	}
	var err error
	switch {
	case d.MediaType.IsIndex():
		err = w.index(d.Digest, raw)
	case d.MediaType.IsImage():
		err = w.image(d.Digest, raw)
	default:
		err = fmt.Errorf("manifest %s has media type %q, neither an image nor an index", d.Digest, d.MediaType)
	}
	if err != nil {
		return err
	}
	w.manifests = append(w.manifests, rawManifest{digest: d.Digest, mediaType: d.MediaType, raw: raw})
	return nil
}

// index visits an index's child manifests and adds its other entries as blobs.
func (w *walker) index(digest v1.Hash, raw []byte) error {
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		return fmt.Errorf("index %s: %w", digest, err)
	}
	for _, c := range idx.Manifests {
		if c.MediaType.IsIndex() || c.MediaType.IsImage() {
			if err := w.visit(c); err != nil {
				return err
			}
			continue
		}
		if err := w.layer(c, digest); err != nil {
			return err
		}
	}
	return nil
}

// image adds an image's config and layers.
func (w *walker) image(digest v1.Hash, raw []byte) error {
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("manifest %s: %w", digest, err)
	}
	cfg, ok := w.t.manifests[m.Config.Digest]
	if !ok {
		return fmt.Errorf("config %s of manifest %s is not in the plan", m.Config.Digest, digest)
	}
	w.blobs = append(w.blobs, &blobTask{desc: m.Config, kind: "config", config: cfg})
	for _, l := range m.Layers {
		if err := w.layer(l, digest); err != nil {
			return err
		}
	}
	return nil
}

// layer adds a layer blob that the manifest in refers to.
func (w *walker) layer(d v1.Descriptor, in v1.Hash) error {
	b, err := w.t.layerTask(d, in)
	if err != nil {
		return err
	}
	w.blobs = append(w.blobs, b)
	return nil
}

func (t *Target) layerTask(d v1.Descriptor, in v1.Hash) (*blobTask, error) {
	b, ok := t.layers[d.Digest]
	if !ok {
		return nil, fmt.Errorf("layer %s of manifest %s is not in the plan", d.Digest, in)
	}
	if b.Desc.Size != d.Size {
		return nil, fmt.Errorf("layer %s of manifest %s: the manifest says %d bytes, its metadata %d", d.Digest, in, d.Size, b.Desc.Size)
	}
	return &blobTask{desc: d, kind: "layer", local: b.Local, origin: b.Origin}, nil
}
