package sign

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Publisher signs pushed digests and attests statements about them, attaching the results
// where Scheme says.
type Publisher struct {
	Signer   Signer
	Scheme   Scheme
	Registry *Registry
}

// SignImage signs cosign's payload for subject, pushed to repo, and attaches it, replacing
// an earlier signature of the same payload by the same key.
func (p *Publisher) SignImage(ctx context.Context, repo name.Repository, subject v1.Descriptor) error {
	ref := repo.Digest(subject.Digest.String())
	payload := Payload(repo, subject.Digest)
	sig, err := p.Signer.Sign(ctx, ref.String(), payload, SimpleSigningMediaType)
	if err != nil {
		return err
	}
	desc := descriptorOf(payload, SimpleSigningMediaType)
	desc.Annotations = sig.annotations(base64.StdEncoding.EncodeToString(sig.Sig))
	a := artifact{kind: "sig", subject: subject, blobs: [][]byte{payload}, descs: []v1.Descriptor{desc}, replaces: func(l v1.Descriptor) bool {
		return l.Digest == desc.Digest && annotationVerifies(l, payload, sig.PublicKey) == nil
	}}
	return p.publish(ctx, repo, a, ref)
}

// Attestation is an in-toto statement to attest and the name it has in messages (its file).
type Attestation struct {
	Name      string
	Statement []byte
}

// Attest wraps each statement (about subject) in a DSSE envelope, signs it and attaches
// them all at once, replacing an earlier copy of the same statement by the same key (other
// statements of a type stay: an index's provenance beside an image's own).
func (p *Publisher) Attest(ctx context.Context, repo name.Repository, subject v1.Descriptor, statements ...Attestation) error {
	ref := repo.Digest(subject.Digest.String())
	a := artifact{kind: "att", subject: subject}
	var key crypto.PublicKey
	for _, st := range statements {
		layer, desc, pub, err := p.envelope(ctx, ref, st.Statement)
		if err != nil {
			return fmt.Errorf("attestation %s: %w", st.Name, err)
		}
		a.blobs, a.descs, key = append(a.blobs, layer), append(a.descs, desc), pub
	}
	a.replaces = func(l v1.Descriptor) bool {
		for i, d := range a.descs {
			if l.Annotations[PredicateAnnotation] != d.Annotations[PredicateAnnotation] {
				continue
			}
			env, err := p.Registry.envelope(repo, l, key)
			if err == nil && bytes.Equal(env.Payload, statements[i].Statement) {
				return true
			}
		}
		return false
	}
	return p.publish(ctx, repo, a, ref)
}

// envelope signs statement in a DSSE envelope: the layer, its descriptor and the key that
// checks it.
func (p *Publisher) envelope(ctx context.Context, ref name.Digest, statement []byte) ([]byte, v1.Descriptor, crypto.PublicKey, error) {
	st, err := ParseStatement(statement)
	if err != nil {
		return nil, v1.Descriptor{}, nil, err
	}
	sig, err := p.Signer.Sign(ctx, ref.String(), PAE(InTotoPayloadType, statement), InTotoPayloadType)
	if err != nil {
		return nil, v1.Descriptor{}, nil, err
	}
	layer, err := json.Marshal(Envelope{PayloadType: InTotoPayloadType, Payload: statement, Signatures: []EnvelopeSign{{Sig: sig.Sig}}})
	if err != nil {
		return nil, v1.Descriptor{}, nil, err
	}
	desc := descriptorOf(layer, DSSEMediaType)
	desc.Annotations = sig.annotations("")
	desc.Annotations[PredicateAnnotation] = st.PredicateType
	return layer, desc, sig.PublicKey, nil
}

func (p *Publisher) publish(ctx context.Context, repo name.Repository, a artifact, ref name.Digest) error {
	what := map[string]string{"sig": "signature", "att": "attestation"}[a.kind]
	scheme, err := p.Registry.SchemeOf(ctx, repo, a.subject.Digest, p.Scheme)
	if err != nil {
		return fmt.Errorf("%s of %s: %w", what, ref, err)
	}
	if scheme == Referrers && a.kind == "sig" {
		// A referrer signature is a manifest of its own: one this key made for this payload
		// already (a push again) is kept instead of adding another.
		found := false
		err := p.Registry.referrerLayers(ctx, repo, a.subject.Digest, a.kind, func(ls []v1.Descriptor, _ string) {
			for _, l := range ls {
				found = found || a.replaces(l)
			}
		})
		if err != nil || found {
			return err
		}
	}
	if err := p.Registry.attach(repo, a, scheme); err != nil {
		return fmt.Errorf("%s of %s (%s): %w", what, ref, scheme, err)
	}
	return nil
}

// annotations are a signature layer's: the signature (empty for an attestation, whose
// signature is in its envelope) and a signer's certificate and chain.
func (s Signature) annotations(sig string) map[string]string {
	a := map[string]string{SignatureAnnotation: sig}
	if len(s.Certificate) > 0 {
		a[CertificateAnnotation] = string(s.Certificate)
	}
	if len(s.Chain) > 0 {
		a[ChainAnnotation] = string(s.Chain)
	}
	return a
}

// annotationVerifies checks a signature layer's annotation over payload with key.
func annotationVerifies(l v1.Descriptor, payload []byte, key crypto.PublicKey) error {
	sig, err := base64.StdEncoding.DecodeString(l.Annotations[SignatureAnnotation])
	if err != nil {
		return fmt.Errorf("its %s annotation is not base64", SignatureAnnotation)
	}
	return rawVerify(key, payload, sig)
}
