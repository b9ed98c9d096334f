package sign

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Media types and annotations as cosign writes them.
const (
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEMediaType          = "application/vnd.dsse.envelope.v1+json"
	InTotoPayloadType      = "application/vnd.in-toto+json"
	SignatureAnnotation    = "dev.cosignproject.cosign/signature"
	CertificateAnnotation  = "dev.sigstore.cosign/certificate"
	ChainAnnotation        = "dev.sigstore.cosign/chain"
	PredicateAnnotation    = "predicateType"
	simpleSigningType      = "cosign container image signature"
)

// simpleSigning is cosign's payload for an image signature (containers/image's "simple
// signing" format, with cosign's type).
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// Payload is cosign's simple-signing payload for the image digest in repo.
func Payload(repo name.Repository, digest v1.Hash) []byte {
	var p simpleSigning
	p.Critical.Identity.DockerReference = repo.Name()
	p.Critical.Image.DockerManifestDigest = digest.String()
	p.Critical.Type = simpleSigningType
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // strings only
	}
	return b
}

// checkPayload checks that a simple-signing payload is cosign's for digest in repo.
func checkPayload(b []byte, repo name.Repository, digest v1.Hash) error {
	var p simpleSigning
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("its payload is not cosign's simple-signing JSON: %w", err)
	}
	c := p.Critical
	if c.Type != simpleSigningType {
		return fmt.Errorf("its payload's type is %q, not %q", c.Type, simpleSigningType)
	}
	if c.Image.DockerManifestDigest != digest.String() {
		return fmt.Errorf("its payload signs %s, not this image's digest", c.Image.DockerManifestDigest)
	}
	if c.Identity.DockerReference != repo.Name() {
		return fmt.Errorf("its payload names repository %q, not %q", c.Identity.DockerReference, repo.Name())
	}
	return nil
}

// PAE is DSSE's pre-authentication encoding of a payload: what a DSSE signature signs.
func PAE(payloadType string, payload []byte) []byte {
	out := []byte("DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(payload)) + " ")
	return append(out, payload...)
}

// Envelope is a DSSE envelope as cosign writes it.
type Envelope struct {
	PayloadType string         `json:"payloadType"`
	Payload     []byte         `json:"payload"`
	Signatures  []EnvelopeSign `json:"signatures"`
}

// EnvelopeSign is one signature of an Envelope.
type EnvelopeSign struct {
	KeyID string `json:"keyid"`
	Sig   []byte `json:"sig"`
}

// Statement is the part of an in-toto statement push and verify read.
type Statement struct {
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
}

// ParseStatement reads an in-toto statement's type, predicate type and subjects.
func ParseStatement(b []byte) (*Statement, error) {
	var s Statement
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("not an in-toto statement: %w", err)
	}
	if s.Type != "https://in-toto.io/Statement/v1" && s.Type != "https://in-toto.io/Statement/v0.1" {
		return nil, fmt.Errorf("_type is %q, not an in-toto statement", s.Type)
	}
	if s.PredicateType == "" {
		return nil, fmt.Errorf("no predicateType")
	}
	return &s, nil
}

// Digests are the sha256 digests the statement's subjects name.
func (s *Statement) Digests() []v1.Hash {
	var out []v1.Hash
	for _, sub := range s.Subject {
		if hex, ok := sub.Digest["sha256"]; ok {
			out = append(out, v1.Hash{Algorithm: "sha256", Hex: hex})
		}
	}
	return out
}

// Names says whether a subject names d.
func (s *Statement) Names(d v1.Hash) bool {
	for _, h := range s.Digests() {
		if h == d {
			return true
		}
	}
	return false
}

// PredicateTypes maps cosign's --type short names to predicate types.
var PredicateTypes = map[string]string{
	"spdxjson":        "https://spdx.dev/Document",
	"spdx":            "https://spdx.dev/Document",
	"cyclonedx":       "https://cyclonedx.org/bom",
	"slsaprovenance1": "https://slsa.dev/provenance/v1",
	"slsaprovenance":  "https://slsa.dev/provenance/v0.2",
	"vuln":            "https://cosign.sigstore.dev/attestation/vuln/v1",
}
