package loadtar

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
	"github.com/rules-wharf/rules_wharf/tools/internal/push"
	"github.com/rules-wharf/rules_wharf/tools/internal/redact"
)

// Sources are where a plan's blobs are read at run time.
type Sources struct {
	Dir      string         // the runfiles directory the plan's paths are under
	Keychain authn.Keychain // registry credentials (push.Credentials)
	Stall    time.Duration  // a registry request without progress this long fails; 0: never
}

// Stats counts the blobs streamed by where they came from.
type Stats struct {
	Local, Fetched           int
	LocalBytes, FetchedBytes int64
}

// Stream writes p's archive to w, the bytes oci.WriteDockerTar writes when the build has
// every blob; each blob is checked against its digest while it is streamed, so a wrong
// one fails before the archive's manifest.json and index.json, which come last, are written.
func Stream(ctx context.Context, w io.Writer, p Plan, src Sources) (Stats, error) {
	var st Stats
	tags, _, err := oci.LoadTags(p.Tags, nil)
	if err != nil {
		return st, err
	}
	d := oci.DockerTar{Config: p.Config, Manifest: p.Manifest, Descriptor: p.Descriptor, Tags: tags}
	seen := map[string]bool{}
	for _, b := range p.Layers {
		d.Layers = append(d.Layers, oci.LayerFile{Meta: &layer.Metadata{Digest: b.Digest, Size: b.Size}, Open: src.opener(ctx, p.Image, b)})
		if !seen[b.Digest] {
			seen[b.Digest] = true
			st.count(b)
		}
	}
	return st, oci.WriteDockerTar(w, d)
}

func (st *Stats) count(b Blob) {
	if b.Origin != "" {
		st.Fetched++
		st.FetchedBytes += b.Size
	} else {
		st.Local++
		st.LocalBytes += b.Size
	}
}

// opener reads b from its runfile or its origin registry, checked against its digest.
func (src Sources) opener(ctx context.Context, image string, b Blob) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		h, err := v1.NewHash(b.Digest)
		if err != nil {
			return nil, fmt.Errorf("image %s: layer %q: %w", image, b.Digest, err)
		}
		desc := v1.Descriptor{Digest: h, Size: b.Size}
		if b.Origin == "" {
			f, err := os.Open(filepath.Join(src.Dir, b.Path))
			if err != nil {
				return nil, fmt.Errorf("image %s: layer %s: %w", image, b.Digest, err)
			}
			return &named{push.VerifyBlob(f, desc, "runfile "+b.Path), "image " + image + ": layer " + b.Digest}, nil
		}
		repo, err := name.NewRepository(b.Origin)
		if err != nil {
			// err quotes the origin, userinfo and all.
			return nil, fmt.Errorf("image %s: base layer %s: origin %q is not a registry repository (HOST/PATH)", image, b.Digest, redact.URL(b.Origin))
		}
		what := fmt.Sprintf("image %s: base layer %s (%d bytes) from registry %s", image, b.Digest, b.Size, repo)
		rc, err := push.FetchBlob(ctx, repo, desc, src.Keychain, src.Stall)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, redact.Error(err))
		}
		return &named{rc, what}, nil
	}
}

// named says which blob a read failed on (a wrong digest, a dropped connection).
type named struct {
	io.ReadCloser
	what string
}

func (n *named) Read(p []byte) (int, error) {
	k, err := n.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", n.what, redact.Error(err))
	}
	return k, err
}
