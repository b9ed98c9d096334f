package sign

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
)

const spdxType = "https://spdx.dev/Document"

func statement(pt string, ds ...v1.Hash) Attestation {
	var subs []string
	for _, d := range ds {
		subs = append(subs, fmt.Sprintf(`{"name":"app","digest":{"sha256":%q}}`, d.Hex))
	}
	return Attestation{Name: "st.json", Statement: []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[%s],"predicateType":%q,"predicate":{"n":1}}`, strings.Join(subs, ","), pt))}
}

func keySigner(k *ecdsa.PrivateKey, file string) *KeySigner { return &KeySigner{Key: k, File: file} }

func verifier(reg *Registry, k *ecdsa.PrivateKey, file string, scheme Scheme) *Verifier {
	return &Verifier{Key: k.Public(), KeyName: file, Scheme: scheme, Registry: reg}
}

func children(t *testing.T, repo name.Repository, top v1.Descriptor) []v1.Descriptor {
	t.Helper()
	idx, err := remote.Index(repo.Digest(top.Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return im.Manifests
}

// An index and its manifests signed and attested under each scheme (detected by Auto)
// verify; the image's digest is unchanged; another key's signature is added beside the
// first, and signing again replaces the first rather than adding a third.
func TestSignAndVerify(t *testing.T) {
	ctx := context.Background()
	for _, want := range []Scheme{Tag, Referrers} {
		t.Run(string(want), func(t *testing.T) {
			_, repo, top, reg := testImage(t, want == Referrers, true)
			got, err := reg.SchemeOf(ctx, repo, top.Digest, Auto)
			if err != nil || got != want {
				t.Fatalf("SchemeOf: %v, %v; want %s", got, err, want)
			}
			a, b := ecKey(t), ecKey(t)
			pub := &Publisher{Signer: keySigner(a, "a.key"), Scheme: Auto, Registry: reg}
			subjects := append([]v1.Descriptor{top}, children(t, repo, top)...)
			for _, s := range subjects {
				if err := pub.SignImage(ctx, repo, s); err != nil {
					t.Fatal(err)
				}
				if err := pub.Attest(ctx, repo, s, statement(spdxType, s.Digest)); err != nil {
					t.Fatal(err)
				}
			}
			if d, err := remote.Head(repo.Tag("v1")); err != nil || d.Digest != top.Digest {
				t.Fatalf("the tag's digest after signing: %v, %v; want %s", d, err, top.Digest)
			}
			for _, scheme := range []Scheme{want, Auto} {
				v := verifier(reg, a, "a.pub", scheme)
				for _, s := range subjects {
					if err := v.CheckSignature(ctx, repo, s.Digest); err != nil {
						t.Errorf("%s: %v", scheme, err)
					}
					if err := v.CheckAttestation(ctx, repo, s.Digest, spdxType); err != nil {
						t.Errorf("%s: %v", scheme, err)
					}
				}
			}
			other := verifier(reg, b, "b.pub", want)
			err = other.CheckSignature(ctx, repo, top.Digest)
			wantErr := fmt.Sprintf("%s: no signature verifies with b.pub: signature ", repo.Digest(top.Digest.String()))
			if err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), "the signature does not verify with this key (signed by another key, or its payload altered)") {
				t.Errorf("another key: got %v", err)
			}
			err = other.CheckAttestation(ctx, repo, top.Digest, spdxType)
			if err == nil || !strings.Contains(err.Error(), "no https://spdx.dev/Document attestation verifies with b.pub") || !strings.Contains(err.Error(), "signed by another key, or the envelope altered") {
				t.Errorf("another key's attestation: got %v", err)
			}
			err = verifier(reg, a, "a.pub", want).CheckAttestation(ctx, repo, top.Digest, "https://slsa.dev/provenance/v1")
			if err == nil || !strings.Contains(err.Error(), "no attestation of type https://slsa.dev/provenance/v1 (looked in ") {
				t.Errorf("missing attestation: got %v", err)
			}

			(&Publisher{Signer: keySigner(b, "b.key"), Scheme: want, Registry: reg}).SignImage(ctx, repo, top)
			pub.SignImage(ctx, repo, top)
			for _, k := range []*ecdsa.PrivateKey{a, b} {
				if err := verifier(reg, k, "k.pub", want).CheckSignature(ctx, repo, top.Digest); err != nil {
					t.Errorf("after a second key signed: %v", err)
				}
			}
			n := 0
			if want == Tag {
				ls, _ := reg.tagLayers(repo.Tag("sha256-" + top.Digest.Hex + ".sig"))
				n = len(ls)
			} else {
				reg.referrerLayers(ctx, repo, top.Digest, "sig", func(ls []v1.Descriptor, _ string) { n += len(ls) })
			}
			if n != 2 {
				t.Errorf("%d signatures of the index, want 2 (one per key)", n)
			}
		})
	}
}

// An image with no signature: the message names the image and where verify looked.
func TestVerifyMissingSignature(t *testing.T) {
	_, repo, top, reg := testImage(t, false, false)
	err := verifier(reg, ecKey(t), "a.pub", Auto).CheckSignature(context.Background(), repo, top.Digest)
	want := fmt.Sprintf("%s: no signature (looked in tag sha256-%s.sig and referrers of type application/vnd.dev.cosign.artifact.sig.v1+json)", repo.Digest(top.Digest.String()), top.Digest.Hex)
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// retag rewrites the first layer of the manifest at tag with edit and puts it back.
func retag(t *testing.T, reg *Registry, repo name.Repository, tag string, edit func(v1.Descriptor, []byte) (v1.Descriptor, []byte)) {
	t.Helper()
	ref := repo.Tag(tag)
	d, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	json.Unmarshal(d.Manifest, &m)
	b, err := reg.blob(repo, m.Layers[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	desc, nb := edit(m.Layers[0], b)
	nd := descriptorOf(nb, desc.MediaType)
	desc.Digest, desc.Size = nd.Digest, nd.Size
	if err := remote.WriteLayer(repo, static.NewLayer(nb, desc.MediaType)); err != nil {
		t.Fatal(err)
	}
	m.Layers[0] = desc
	raw, _ := json.Marshal(m)
	if err := remote.Put(ref, rawManifest{raw: raw}); err != nil {
		t.Fatal(err)
	}
}

// A signature whose payload was altered, one copied from another image, an envelope whose
// statement was altered, and a statement about another digest each fail, saying which.
func TestVerifyTampered(t *testing.T) {
	ctx := context.Background()
	_, repo, top, reg := testImage(t, false, false)
	k := ecKey(t)
	pub := &Publisher{Signer: keySigner(k, "k.key"), Scheme: Tag, Registry: reg}
	other := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	if err := pub.SignImage(ctx, repo, top); err != nil {
		t.Fatal(err)
	}
	if err := pub.Attest(ctx, repo, top, statement(spdxType, top.Digest)); err != nil {
		t.Fatal(err)
	}
	if err := pub.Attest(ctx, repo, top, statement("https://slsa.dev/provenance/v1", other)); err != nil {
		t.Fatal(err)
	}
	v := verifier(reg, k, "k.pub", Tag)
	sigTag, attTag := "sha256-"+top.Digest.Hex+".sig", "sha256-"+top.Digest.Hex+".att"
	retag(t, reg, repo, sigTag, func(d v1.Descriptor, b []byte) (v1.Descriptor, []byte) {
		return d, bytes.Replace(b, []byte(top.Digest.Hex), []byte(other.Hex), 1)
	})
	expect(t, v.CheckSignature(ctx, repo, top.Digest), "no signature verifies with k.pub", "the signature does not verify with this key (signed by another key, or its payload altered)")

	// A valid signature of another image, copied under this image's tag.
	payload := Payload(repo, other)
	sig, _ := pub.Signer.Sign(ctx, "x", payload, SimpleSigningMediaType)
	retag(t, reg, repo, sigTag, func(d v1.Descriptor, _ []byte) (v1.Descriptor, []byte) {
		d.Annotations = sig.annotations(encode(sig.Sig))
		return d, payload
	})
	expect(t, v.CheckSignature(ctx, repo, top.Digest), "its payload signs sha256:abab", "not this image's digest")

	// A valid signature of this digest in another repository.
	elsewhere, _ := name.NewRepository(repo.RegistryStr() + "/elsewhere")
	payload = Payload(elsewhere, top.Digest)
	sig, _ = pub.Signer.Sign(ctx, "x", payload, SimpleSigningMediaType)
	retag(t, reg, repo, sigTag, func(d v1.Descriptor, _ []byte) (v1.Descriptor, []byte) {
		d.Annotations = sig.annotations(encode(sig.Sig))
		return d, payload
	})
	expect(t, v.CheckSignature(ctx, repo, top.Digest), `its payload names repository "`+elsewhere.Name()+`", not "`+repo.Name()+`"`)

	expect(t, v.CheckAttestation(ctx, repo, top.Digest, "https://slsa.dev/provenance/v1"), "its statement's subjects [sha256:abab", "do not name this image's digest")
	retag(t, reg, repo, attTag, func(d v1.Descriptor, b []byte) (v1.Descriptor, []byte) {
		var env Envelope
		json.Unmarshal(b, &env)
		env.Payload = bytes.Replace(env.Payload, []byte(`"n":1`), []byte(`"n":2`), 1)
		nb, _ := json.Marshal(env)
		return d, nb
	})
	expect(t, v.CheckAttestation(ctx, repo, top.Digest, spdxType), "no https://spdx.dev/Document attestation verifies with k.pub", "its envelope's 1 signature(s) do not verify with this key (signed by another key, or the envelope altered)")
	retag(t, reg, repo, attTag, func(d v1.Descriptor, b []byte) (v1.Descriptor, []byte) {
		var env Envelope
		json.Unmarshal(b, &env)
		env.PayloadType = "text/plain"
		nb, _ := json.Marshal(env)
		return d, nb
	})
	expect(t, v.CheckAttestation(ctx, repo, top.Digest, spdxType), `its envelope's payloadType is "text/plain", not "application/vnd.in-toto+json"`)
}

func expect(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("got %v\nwant %q", err, w)
		}
	}
}

func encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Attesting the same statement again replaces it; another statement of the same type
// (an index's provenance beside the image's own) stays beside it.
func TestAttestReplacesOnlyTheSameStatement(t *testing.T) {
	ctx := context.Background()
	_, repo, top, reg := testImage(t, false, false)
	pub := &Publisher{Signer: keySigner(ecKey(t), "k.key"), Scheme: Tag, Registry: reg}
	other := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("cd", 32)}
	for _, st := range []Attestation{statement(spdxType, top.Digest), statement(spdxType, top.Digest, other), statement(spdxType, top.Digest)} {
		if err := pub.Attest(ctx, repo, top, st); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := reg.tagLayers(repo.Tag("sha256-" + top.Digest.Hex + ".att"))
	if err != nil || len(ls) != 2 {
		t.Errorf("the .att tag holds %d attestations (%v), want 2", len(ls), err)
	}
}

// Auto asks the registry once per repository; an answer that is neither an index nor a
// client error fails, naming the registry and the way around the question.
func TestSchemeOfProbe(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case strings.HasPrefix(r.URL.Path, "/v2/broken/referrers/"):
			http.Error(w, "oops", http.StatusBadGateway)
		case strings.HasPrefix(r.URL.Path, "/v2/none/referrers/"):
			asked.Add(1)
			http.Error(w, "404 page not found", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	reg := &Registry{}
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	none, _ := name.NewRepository(host + "/none")
	for range 2 {
		if s, err := reg.SchemeOf(context.Background(), none, d, Auto); err != nil || s != Tag {
			t.Errorf("404: %v, %v; want tag", s, err)
		}
	}
	if asked.Load() != 1 {
		t.Errorf("asked %d times, want once", asked.Load())
	}
	broken, _ := name.NewRepository(host + "/broken")
	_, err := reg.SchemeOf(context.Background(), broken, d, Auto)
	expect(t, err, "asking "+host+" whether it answers the referrers API (--signatures=referrers or tag skips this): GET http://"+host+"/v2/broken/referrers/"+d.String()+": 502 Bad Gateway, neither an index nor a client error")
}
