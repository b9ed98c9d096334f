package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Scheme is where signatures and attestations are stored.
type Scheme string

const (
	// Auto picks Referrers where the registry answers the referrers API, else Tag.
	Auto Scheme = "auto"
	// Referrers: manifests whose subject is the signed digest (OCI 1.1).
	Referrers Scheme = "referrers"
	// Tag: cosign's tags sha256-<hex>.sig and .att, one manifest each with every
	// signature (attestation) as a layer.
	Tag Scheme = "tag"
)

// ParseScheme reads --signatures.
func ParseScheme(s string) (Scheme, error) {
	switch Scheme(s) {
	case Auto, Referrers, Tag:
		return Scheme(s), nil
	}
	return "", fmt.Errorf("--signatures %q: want auto, referrers or tag", s)
}

// ArtifactType is cosign's artifact type for a referrer of kind "sig" or "att".
func ArtifactType(kind string) string {
	return "application/vnd.dev.cosign.artifact." + kind + ".v1+json"
}

// Registry is how sign reaches registries: the push's credentials and transport.
type Registry struct {
	Keychain  authn.Keychain
	Transport http.RoundTripper
	// Options are for go-containerregistry's remote calls (auth, transport, context).
	Options []remote.Option

	mu      sync.Mutex
	schemes map[string]Scheme // detected, per repository
}

// SchemeOf resolves want for repo: Auto asks the registry whether it answers the
// referrers API for subject (GET /v2/<repo>/referrers/<digest>: 200 yes, 4xx no).
func (r *Registry) SchemeOf(ctx context.Context, repo name.Repository, subject v1.Hash, want Scheme) (Scheme, error) {
	if want != Auto {
		return want, nil
	}
	r.mu.Lock()
	s, ok := r.schemes[repo.String()]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := r.probe(ctx, repo, subject)
	if err != nil {
		return "", fmt.Errorf("asking %s whether it answers the referrers API (--signatures=referrers or tag skips this): %w", repo.RegistryStr(), err)
	}
	r.mu.Lock()
	if r.schemes == nil {
		r.schemes = map[string]Scheme{}
	}
	r.schemes[repo.String()] = s
	r.mu.Unlock()
	return s, nil
}

func (r *Registry) probe(ctx context.Context, repo name.Repository, subject v1.Hash) (Scheme, error) {
	keychain := r.Keychain
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	auth, err := keychain.Resolve(repo)
	if err != nil {
		return "", err
	}
	rt := r.Transport
	if rt == nil {
		rt = remote.DefaultTransport
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, rt, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return "", err
	}
	u := fmt.Sprintf("%s://%s/v2/%s/referrers/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), subject)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", string(types.OCIImageIndex))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var idx v1.IndexManifest
	switch {
	case resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&idx) == nil && idx.SchemaVersion == 2:
		return Referrers, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return Tag, nil
	}
	return "", fmt.Errorf("GET %s: %s, neither an index nor a client error", u, resp.Status)
}

// artifact is what to attach to subject in repo at once: a signature, or attestations.
type artifact struct {
	kind    string // "sig" or "att"
	subject v1.Descriptor
	blobs   [][]byte
	descs   []v1.Descriptor // of blobs, with their annotations
	// replaces says whether an existing layer of the tag's manifest is an earlier copy of
	// one of descs (the same signer's, for the same payload or statement).
	replaces func(v1.Descriptor) bool
}

// attach stores a in repo as scheme says: a referrer signature by digest alone; anything
// else appended to the tag's manifest (keeping the signatures of others), which under
// Referrers also names the subject, so that cosign, which reads attestations only from
// the tag, finds them too.
func (r *Registry) attach(repo name.Repository, a artifact, scheme Scheme) error {
	for i, b := range a.blobs {
		if err := remote.WriteLayer(repo, static.NewLayer(b, a.descs[i].MediaType), r.Options...); err != nil {
			return fmt.Errorf("uploading the %s blob: %w", a.kind, err)
		}
	}
	layers := a.descs
	var tag name.Reference
	if scheme == Tag || a.kind == "att" {
		tag = repo.Tag(fmt.Sprintf("%s-%s.%s", a.subject.Digest.Algorithm, a.subject.Digest.Hex, a.kind))
		old, err := r.tagLayers(tag)
		if err != nil {
			return err
		}
		layers = nil
		for _, l := range old {
			if !a.replaces(l) {
				layers = append(layers, l)
			}
		}
		layers = append(layers, a.descs...)
	}
	m, err := r.writeManifest(repo, a, layers, scheme)
	if err != nil {
		return err
	}
	if tag == nil {
		tag = repo.Digest(m.digest.String())
	}
	if err := remote.Put(tag, m, r.Options...); err != nil {
		return fmt.Errorf("putting the %s manifest %s: %w", a.kind, tag, err)
	}
	return nil
}

// tagLayers are the layers of the manifest at tag; none when the tag does not exist.
func (r *Registry) tagLayers(tag name.Reference) ([]v1.Descriptor, error) {
	d, err := remote.Get(tag, r.Options...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", tag, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		return nil, fmt.Errorf("reading %s: %w", tag, err)
	}
	return m.Layers, nil
}

// manifest is an image manifest with OCI 1.1's artifactType, which v1.Manifest lacks.
type manifest struct {
	SchemaVersion int64           `json:"schemaVersion"`
	MediaType     types.MediaType `json:"mediaType"`
	ArtifactType  string          `json:"artifactType,omitempty"`
	Config        v1.Descriptor   `json:"config"`
	Layers        []v1.Descriptor `json:"layers"`
	Subject       *v1.Descriptor  `json:"subject,omitempty"`
}

type rawManifest struct {
	raw    []byte
	digest v1.Hash
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// writeManifest uploads the config of a manifest holding layers and returns the manifest:
// cosign's shape, with the subject and artifact type under Referrers.
func (r *Registry) writeManifest(repo name.Repository, a artifact, layers []v1.Descriptor, scheme Scheme) (rawManifest, error) {
	cfg := v1.ConfigFile{RootFS: v1.RootFS{Type: "layers"}}
	for _, l := range layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.Digest)
	}
	cb, err := json.Marshal(cfg)
	if err != nil {
		return rawManifest{}, err
	}
	m := manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Layers: layers}
	m.Config = descriptorOf(cb, types.OCIConfigJSON)
	if scheme == Referrers {
		m.ArtifactType = ArtifactType(a.kind)
		m.Config.MediaType = types.MediaType(m.ArtifactType)
		subject := v1.Descriptor{MediaType: a.subject.MediaType, Digest: a.subject.Digest, Size: a.subject.Size}
		m.Subject = &subject
	}
	if err := remote.WriteLayer(repo, static.NewLayer(cb, m.Config.MediaType), r.Options...); err != nil {
		return rawManifest{}, fmt.Errorf("uploading the %s config: %w", a.kind, err)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return rawManifest{}, err
	}
	return rawManifest{raw: raw, digest: descriptorOf(raw, "").Digest}, nil
}

// descriptorOf describes b.
func descriptorOf(b []byte, mt types.MediaType) v1.Descriptor {
	d, size, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		panic(err) // reading memory
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size}
}
