package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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

// Result is what push did for one request.
type Result struct {
	Label   string
	Ref     name.Digest
	Tags    []string
	Sent    Count // uploaded from a source
	Present Count // already in the repository
	Mounted Count // mounted from another repository of the registry
	// From counts the sent blobs by the source they came from.
	From map[string]*Count
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
// and a read-back of every digest. It returns one Result per request, in order.
func Push(ctx context.Context, reqs []Request, opts Options) ([]Result, error) {
	if opts.Keychain == nil {
		opts.Keychain = authn.DefaultKeychain
	}
	if opts.Jobs <= 0 {
		opts.Jobs = 8
	}
	rt := remote.DefaultTransport
	if opts.Stall > 0 {
		rt = &stallTransport{inner: rt, idle: opts.Stall}
	}
	ropts := []remote.Option{remote.WithAuthFromKeychain(opts.Keychain), remote.WithTransport(rt), remote.WithContext(ctx)}
	if Backoff != nil {
		ropts = append(ropts, remote.WithRetryBackoff(*Backoff))
	}
	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		return nil, err
	}
	e := &engine{opts: opts, rt: rt, ropts: ropts, pusher: pusher, clients: map[string]*http.Client{}}

	results := make([]Result, len(reqs))
	manifests := make([][]rawManifest, len(reqs))
	tasks := map[string]*blobTask{} // registry + digest
	var order []*blobTask
	for i, r := range reqs {
		top := r.Repository.Digest(r.Target.Top.Digest.String())
		results[i] = Result{Label: r.Target.Label, Ref: top, Tags: r.Tags, From: map[string]*Count{}}
		ms, blobs, err := r.Target.walk()
		if err != nil {
			return nil, fmt.Errorf("pushing %s (%s): %w", r.Target.Label, top, err)
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
	e.progress.total(order)
	stop := e.progress.start(opts.Progress)
	err = e.moveBlobs(ctx, order)
	stop()
	if err != nil {
		return nil, err
	}
	for i, r := range reqs {
		if err := e.putManifests(ctx, r, manifests[i]); err != nil {
			return nil, fmt.Errorf("pushing %s (%s): %w", r.Target.Label, results[i].Ref, explainAuth(err, r.Repository.RegistryStr()))
		}
	}
	return results, nil
}

type engine struct {
	opts     Options
	rt       http.RoundTripper
	ropts    []remote.Option
	pusher   *remote.Pusher
	mu       sync.Mutex
	clients  map[string]*http.Client // per repository, authorized to push
	progress progress
}

// moveBlobs runs the blob tasks Jobs at a time and returns the first failure; a failure
// cancels the tasks still running.
func (e *engine) moveBlobs(ctx context.Context, tasks []*blobTask) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once  sync.Once
		first error
		wg    sync.WaitGroup
		mu    sync.Mutex // guards the Results' counts
	)
	work := make(chan *blobTask)
	for range min(e.opts.Jobs, len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				if ctx.Err() != nil {
					continue
				}
				if err := e.move(ctx, t, &mu); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
	for _, t := range tasks {
		work <- t
	}
	close(work)
	wg.Wait()
	return first
}

// move puts one blob into every repository needing it.
func (e *engine) move(ctx context.Context, t *blobTask, mu *sync.Mutex) error {
	var have *name.Repository // a repository of this registry known to hold the blob
	for _, n := range t.needs {
		fail := func(err error) error {
			return fmt.Errorf("pushing %s (%s): %s blob %s: %w", n.label, n.top, t.kind, t.desc.Digest, explainAuth(err, n.repo.RegistryStr()))
		}
		ok, err := e.exists(ctx, n.repo, t.desc.Digest)
		if err != nil {
			return fail(err)
		}
		how, from := present, ""
		if !ok {
			mountFrom := have
			if mountFrom == nil && t.origin != nil && t.origin.RegistryStr() == n.repo.RegistryStr() && t.origin.RepositoryStr() != n.repo.RepositoryStr() {
				mountFrom = t.origin
			}
			if how, from, err = e.upload(ctx, t, n.repo, mountFrom); err != nil {
				return fail(err)
			}
		}
		r := n.repo
		have = &r
		mu.Lock()
		switch how {
		case present:
			n.result.Present.add(t.desc.Size)
		case mounted:
			n.result.Mounted.add(t.desc.Size)
		case sent:
			n.result.Sent.add(t.desc.Size)
			c := n.result.From[from]
			if c == nil {
				c = &Count{}
				n.result.From[from] = c
			}
			c.add(t.desc.Size)
		}
		mu.Unlock()
	}
	e.progress.blobDone()
	return nil
}

// upload sends the blob to repo, by mount from mountFrom when given (go-containerregistry
// falls back to sending it when the registry declines the mount). It says which it was
// and, when sent, from which source.
func (e *engine) upload(ctx context.Context, t *blobTask, repo name.Repository, mountFrom *name.Repository) (outcome, string, error) {
	l := &sourcedLayer{e: e, t: t}
	if mountFrom == nil {
		// Find the bytes before opening an upload, so that a blob found nowhere leaves no
		// upload session behind and its error lists where push looked.
		if err := l.find(ctx); err != nil {
			return 0, "", err
		}
	}
	var up v1.Layer = l
	if mountFrom != nil {
		up = &remote.MountableLayer{Layer: l, Reference: mountFrom.Digest(t.desc.Digest.String())}
	}
	err := e.pusher.Upload(ctx, repo, up)
	l.closePending()
	if err != nil {
		return 0, "", err
	}
	if l.opened.Load() == 0 {
		return mounted, "", nil
	}
	return sent, l.source, nil
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
	for _, m := range ms {
		if err := e.pusher.Put(ctx, r.Repository.Digest(m.digest.String()), m); err != nil {
			return fmt.Errorf("manifest %s: %w", m.digest, err)
		}
	}
	top := ms[len(ms)-1]
	for _, tag := range r.Tags {
		if err := e.pusher.Put(ctx, r.Repository.Tag(tag), top); err != nil {
			return fmt.Errorf("tag %s: %w", tag, err)
		}
	}
	refs := []name.Reference{r.Repository.Digest(top.digest.String())}
	for _, tag := range r.Tags {
		refs = append(refs, r.Repository.Tag(tag))
	}
	for _, ref := range refs {
		d, err := remote.Head(ref, e.ropts...)
		if err != nil {
			return fmt.Errorf("reading back %s: %w", ref, err)
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
	var ms []rawManifest
	var blobs []*blobTask
	seen := map[v1.Hash]bool{}
	var visit func(d v1.Descriptor) error
	visit = func(d v1.Descriptor) error {
		if seen[d.Digest] {
			return nil
		}
		seen[d.Digest] = true
		raw, ok := t.manifests[d.Digest]
		if !ok {
			return fmt.Errorf("manifest %s is not in the plan", d.Digest)
		}
		switch {
		case d.MediaType.IsIndex():
			var idx v1.IndexManifest
			if err := json.Unmarshal(raw, &idx); err != nil {
				return fmt.Errorf("index %s: %w", d.Digest, err)
			}
			for _, c := range idx.Manifests {
				if c.MediaType.IsIndex() || c.MediaType.IsImage() {
					if err := visit(c); err != nil {
						return err
					}
					continue
				}
				b, err := t.layerTask(c, d.Digest)
				if err != nil {
					return err
				}
				blobs = append(blobs, b)
			}
		case d.MediaType.IsImage():
			var m v1.Manifest
			if err := json.Unmarshal(raw, &m); err != nil {
				return fmt.Errorf("manifest %s: %w", d.Digest, err)
			}
			cfg, ok := t.manifests[m.Config.Digest]
			if !ok {
				return fmt.Errorf("config %s of manifest %s is not in the plan", m.Config.Digest, d.Digest)
			}
			blobs = append(blobs, &blobTask{desc: m.Config, kind: "config", config: cfg})
			for _, l := range m.Layers {
				b, err := t.layerTask(l, d.Digest)
				if err != nil {
					return err
				}
				blobs = append(blobs, b)
			}
		default:
			return fmt.Errorf("manifest %s has media type %q, neither an image nor an index", d.Digest, d.MediaType)
		}
		ms = append(ms, rawManifest{digest: d.Digest, mediaType: d.MediaType, raw: raw})
		return nil
	}
	if err := visit(t.Top); err != nil {
		return nil, nil, err
	}
	return ms, blobs, nil
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

// sourcedLayer is a blob for Pusher.Upload whose bytes come from the first source holding
// it; each Compressed call (go-containerregistry retries) opens it again.
type sourcedLayer struct {
	e       *engine
	t       *blobTask
	source  string        // where the bytes were found
	pending io.ReadCloser // opened by find, not yet handed out
	opened  atomic.Int32
	pmu     sync.Mutex
}

// find opens the blob from the first source that has it, or says where it looked.
func (l *sourcedLayer) find(ctx context.Context) error {
	rc, src, err := l.open(ctx)
	if err != nil {
		return err
	}
	l.pmu.Lock()
	l.pending, l.source = rc, src
	l.pmu.Unlock()
	return nil
}

func (l *sourcedLayer) open(ctx context.Context) (io.ReadCloser, string, error) {
	t := l.t
	if t.config != nil {
		return io.NopCloser(strings.NewReader(string(t.config))), "build outputs", nil
	}
	var looked []string
	try := func(s Source) (io.ReadCloser, bool, error) {
		rc, err := s.Open(ctx, t.desc)
		if err == nil {
			return rc, true, nil
		}
		if errors.Is(err, errNotFound) {
			looked = append(looked, fmt.Sprintf("%s: %v", s, err))
			return nil, false, nil
		}
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		// A source that fails (a cache that is down) is reported, and the next is asked.
		looked = append(looked, fmt.Sprintf("%s: %v", s, err))
		return nil, false, nil
	}
	var sources []Source
	for _, p := range t.local {
		sources = append(sources, localFile(p))
	}
	if len(t.local) == 0 {
		looked = append(looked, "the output tree: the build left no path for it")
	}
	sources = append(sources, l.e.opts.Sources...)
	if t.origin != nil {
		sources = append(sources, &registrySource{repo: *t.origin, opts: l.e.ropts})
	}
	for _, s := range sources {
		rc, ok, err := try(s)
		if err != nil {
			return nil, "", err
		}
		if ok {
			return rc, sourceKind(s), nil
		}
	}
	if len(l.e.opts.Sources) == 0 {
		looked = append(looked, "no remote or disk cache: none is configured (--remote-cache, --disk-cache, or Bazel's .bazelrc)")
	}
	return nil, "", fmt.Errorf("found nowhere (%d bytes); looked in:\n  %s", t.desc.Size, strings.Join(looked, "\n  "))
}

func (l *sourcedLayer) closePending() {
	l.pmu.Lock()
	defer l.pmu.Unlock()
	if l.pending != nil {
		l.pending.Close()
		l.pending = nil
	}
}

func (l *sourcedLayer) Compressed() (io.ReadCloser, error) {
	l.opened.Add(1)
	l.pmu.Lock()
	rc, src := l.pending, l.source
	l.pending = nil
	l.pmu.Unlock()
	if rc == nil {
		var err error
		if rc, src, err = l.open(context.Background()); err != nil {
			return nil, err
		}
		l.pmu.Lock()
		l.source = src
		l.pmu.Unlock()
	}
	return newVerified(rc, l.t.desc, src, l.e.progress.sent), nil
}

func (l *sourcedLayer) Digest() (v1.Hash, error)            { return l.t.desc.Digest, nil }
func (l *sourcedLayer) Size() (int64, error)                { return l.t.desc.Size, nil }
func (l *sourcedLayer) MediaType() (types.MediaType, error) { return l.t.desc.MediaType, nil }
func (l *sourcedLayer) DiffID() (v1.Hash, error) {
	return v1.Hash{}, errors.New("push does not know diff IDs")
}
func (l *sourcedLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("push sends blobs as they are")
}

// localFile is one candidate file in the output tree.
type localFile string

func (p localFile) String() string { return "the output tree (" + string(p) + ")" }

func (p localFile) Open(_ context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	return openSized(string(p), d.Size)
}

// registrySource streams a blob from the registry repository it was pulled from.
type registrySource struct {
	repo name.Repository
	opts []remote.Option
}

func (s *registrySource) String() string { return "registry " + s.repo.String() }

func (s *registrySource) Open(_ context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	l, err := remote.Layer(s.repo.Digest(d.Digest.String()), s.opts...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil, errNotFound
	}
	return rc, err
}

// sourceKind names a source's kind for the summary: output tree, remote cache, ...
func sourceKind(s Source) string {
	switch s.(type) {
	case localFile:
		return "output tree"
	case *remoteCacheSource:
		return "remote cache"
	case DiskCacheSource:
		return "disk cache"
	case *registrySource:
		return "origin registry"
	}
	return s.String()
}
