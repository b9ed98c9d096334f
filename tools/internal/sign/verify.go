package sign

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// maxBlob bounds a signature payload or attestation envelope read into memory (an SBOM
// attestation holds the whole SBOM).
const maxBlob = 256 << 20

// Verifier checks an image's signatures and attestations against a public key.
type Verifier struct {
	Key      crypto.PublicKey
	KeyName  string // the key's file, for messages
	Scheme   Scheme // Auto reads both the referrers and cosign's tags
	Registry *Registry
}

// found is one signature or attestation layer and the manifest it was in.
type found struct {
	desc  v1.Descriptor
	where string
}

// CheckSignature fails unless a signature of d in repo verifies with the key and its
// payload is cosign's for d in repo.
func (v *Verifier) CheckSignature(ctx context.Context, repo name.Repository, d v1.Hash) error {
	ref := repo.Digest(d.String())
	ls, looked, err := v.attached(ctx, repo, d, "sig")
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	if len(ls) == 0 {
		return fmt.Errorf("%s: no signature (looked in %s)", ref, strings.Join(looked, " and "))
	}
	var reasons []string
	for _, f := range ls {
		err := v.checkSignature(repo, d, f.desc)
		if err == nil {
			return nil
		}
		reasons = append(reasons, fmt.Sprintf("signature %s (in %s): %v", f.desc.Digest, f.where, err))
	}
	return fmt.Errorf("%s: no signature verifies with %s: %s", ref, v.KeyName, strings.Join(reasons, "; "))
}

func (v *Verifier) checkSignature(repo name.Repository, d v1.Hash, l v1.Descriptor) error {
	if l.MediaType != SimpleSigningMediaType {
		return fmt.Errorf("media type %q, not %q", l.MediaType, SimpleSigningMediaType)
	}
	payload, err := v.Registry.blob(repo, l.Digest)
	if err != nil {
		return err
	}
	if err := annotationVerifies(l, payload, v.Key); err != nil {
		return fmt.Errorf("%w with this key (signed by another key, or its payload altered)", err)
	}
	return checkPayload(payload, repo, d)
}

// CheckAttestation fails unless an attestation of d in repo with predicateType verifies:
// its envelope's signature with the key, its statement's subject naming d.
func (v *Verifier) CheckAttestation(ctx context.Context, repo name.Repository, d v1.Hash, predicateType string) error {
	ref := repo.Digest(d.String())
	ls, looked, err := v.attached(ctx, repo, d, "att")
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	var reasons []string
	for _, f := range ls {
		env, err := v.Registry.envelope(repo, f.desc, v.Key)
		if err != nil {
			if f.desc.Annotations[PredicateAnnotation] == predicateType {
				reasons = append(reasons, fmt.Sprintf("attestation %s (in %s): %v", f.desc.Digest, f.where, err))
			}
			continue
		}
		st, err := ParseStatement(env.Payload)
		switch {
		case err != nil:
			reasons = append(reasons, fmt.Sprintf("attestation %s (in %s): %v", f.desc.Digest, f.where, err))
		case st.PredicateType != predicateType:
		case !st.Names(d):
			reasons = append(reasons, fmt.Sprintf("attestation %s (in %s): its statement's subjects %v do not name this image's digest", f.desc.Digest, f.where, st.Digests()))
		default:
			return nil
		}
	}
	if len(reasons) == 0 {
		return fmt.Errorf("%s: no attestation of type %s (looked in %s)", ref, predicateType, strings.Join(looked, " and "))
	}
	return fmt.Errorf("%s: no %s attestation verifies with %s: %s", ref, predicateType, v.KeyName, strings.Join(reasons, "; "))
}

// attached lists the layers of kind ("sig", "att") attached to d in repo, from cosign's
// tag and the referrers as the scheme says, and names the places looked in.
func (v *Verifier) attached(ctx context.Context, repo name.Repository, d v1.Hash, kind string) ([]found, []string, error) {
	var out []found
	var looked []string
	seen := map[string]bool{} // signatures of one payload share its digest
	add := func(ls []v1.Descriptor, where string) {
		for _, l := range ls {
			if key := l.Digest.String() + " " + l.Annotations[SignatureAnnotation]; !seen[key] {
				seen[key] = true
				out = append(out, found{l, where})
			}
		}
	}
	if v.Scheme != Referrers {
		tag := repo.Tag(fmt.Sprintf("%s-%s.%s", d.Algorithm, d.Hex, kind))
		ls, err := v.Registry.tagLayers(tag)
		if err != nil {
			return nil, nil, err
		}
		add(ls, "tag "+tag.TagStr())
		looked = append(looked, "tag "+tag.TagStr())
	}
	if v.Scheme != Tag {
		looked = append(looked, "referrers of type "+ArtifactType(kind))
		if err := v.Registry.referrerLayers(ctx, repo, d, kind, add); err != nil {
			return nil, nil, err
		}
	}
	return out, looked, nil
}

// referrerLayers passes add the layers of each referrer of d of kind's artifact type.
func (r *Registry) referrerLayers(ctx context.Context, repo name.Repository, d v1.Hash, kind string, add func([]v1.Descriptor, string)) error {
	at := ArtifactType(kind)
	idx, err := remote.Referrers(repo.Digest(d.String()), append(r.Options, remote.WithContext(ctx), remote.WithFilter("artifactType", at))...)
	if err != nil {
		return fmt.Errorf("listing referrers: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("listing referrers: %w", err)
	}
	for _, m := range im.Manifests {
		if m.ArtifactType != at {
			continue
		}
		ls, err := r.tagLayers(repo.Digest(m.Digest.String()))
		if err != nil {
			return err
		}
		add(ls, "referrer "+m.Digest.String())
	}
	return nil
}

// blob reads a small blob of repo, checked against its digest.
func (r *Registry) blob(repo name.Repository, d v1.Hash) ([]byte, error) {
	l, err := remote.Layer(repo.Digest(d.String()), r.Options...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxBlob+1))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", d, err)
	}
	if len(b) > maxBlob {
		return nil, fmt.Errorf("blob %s is larger than %d MiB", d, maxBlob>>20)
	}
	return b, nil
}

// envelope reads a DSSE layer and checks a signature of its envelope with key.
func (r *Registry) envelope(repo name.Repository, l v1.Descriptor, key crypto.PublicKey) (*Envelope, error) {
	if l.MediaType != DSSEMediaType {
		return nil, fmt.Errorf("media type %q, not %q", l.MediaType, DSSEMediaType)
	}
	b, err := r.blob(repo, l.Digest)
	if err != nil {
		return nil, err
	}
	var env Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("not a DSSE envelope: %w", err)
	}
	if env.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("its envelope's payloadType is %q, not %q", env.PayloadType, InTotoPayloadType)
	}
	pae := PAE(env.PayloadType, env.Payload)
	for _, s := range env.Signatures {
		if rawVerify(key, pae, s.Sig) == nil {
			return &env, nil
		}
	}
	return nil, fmt.Errorf("its envelope's %d signature(s) do not verify with this key (signed by another key, or the envelope altered)", len(env.Signatures))
}
