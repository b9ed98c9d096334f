package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// sourcedLayer is a blob for Pusher.Upload whose bytes come from the first source holding
// it; each Compressed call (go-containerregistry retries, a resend after a token refresh)
// opens it again. A source whose bytes turn out not to be the blob is not asked again.
type sourcedLayer struct {
	e       *engine
	t       *blobTask
	source  string        // the kind of source the bytes were found in
	pending io.ReadCloser // opened by find, not yet handed out
	from    Source        // pending's source
	wrong   []wrongBytes  // sources that had other bytes
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
	l.pending, l.from, l.source = rc, src, sourceKind(src)
	l.pmu.Unlock()
	return nil
}

// sources lists where the blob may be, in the order they are asked.
func (l *sourcedLayer) sources() []Source {
	t := l.t
	if t.config != nil {
		return []Source{bytesSource{t.desc.Digest: t.config}}
	}
	var sources []Source
	for _, p := range t.local {
		sources = append(sources, localFile(p))
	}
	sources = append(sources, l.e.opts.Sources...)
	if t.origin != nil {
		sources = append(sources, &registrySource{repo: *t.origin, opts: l.e.ropts})
	}
	return sources
}

func (l *sourcedLayer) open(ctx context.Context) (io.ReadCloser, Source, error) {
	var looked []string
	if l.t.config == nil && len(l.t.local) == 0 {
		looked = append(looked, "the output tree: the build left no path for it")
	}
	l.pmu.Lock()
	wrong := append([]wrongBytes(nil), l.wrong...)
	l.pmu.Unlock()
	for _, s := range l.sources() {
		if i := slices.IndexFunc(wrong, func(w wrongBytes) bool { return w.source == s.String() }); i >= 0 {
			looked = append(looked, fmt.Sprintf("%s: wrong bytes (%s)", s, wrong[i].what))
			continue
		}
		rc, err := s.Open(ctx, l.t.desc)
		if err == nil {
			return rc, s, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		// A source without the blob, or that fails (a cache that is down), is reported,
		// and the next is asked.
		looked = append(looked, fmt.Sprintf("%s: %v", s, err))
	}
	if len(l.e.opts.Sources) == 0 {
		looked = append(looked, "no remote or disk cache: none is configured (--remote-cache, --disk-cache, or Bazel's .bazelrc)")
	}
	if n := len(wrong); n > 0 {
		looked = append(looked, fmt.Sprintf("%d %s other bytes under this digest (stale or corrupt); a rebuild (bazel build %s) refreshes them",
			n, map[bool]string{true: "source had", false: "sources had"}[n == 1], l.t.needs[0].label))
	}
	return nil, nil, fmt.Errorf("found nowhere (%d bytes); looked in:\n  %s", l.t.desc.Size, strings.Join(looked, "\n  "))
}

// wrongBytes is a source that had other bytes under the blob's digest.
type wrongBytes struct{ source, what string }

// wrongCount is how many sources turned out to have other bytes.
func (l *sourcedLayer) wrongCount() int {
	l.pmu.Lock()
	defer l.pmu.Unlock()
	return len(l.wrong)
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
	rc, src := l.pending, l.from
	l.pending = nil
	l.pmu.Unlock()
	if rc == nil {
		var err error
		if rc, src, err = l.open(context.Background()); err != nil {
			return nil, err
		}
		l.pmu.Lock()
		l.source = sourceKind(src)
		l.pmu.Unlock()
	}
	v := newVerified(rc, l.t.desc, sourceKind(src), l.e.progress.sent)
	v.wrong = func(what string) {
		l.pmu.Lock()
		defer l.pmu.Unlock()
		l.wrong = append(l.wrong, wrongBytes{src.String(), what})
	}
	return v, nil
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
