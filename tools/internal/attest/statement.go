// Package attest writes unsigned in-toto Statement v1 documents about images: an image's
// SBOM as a predicate, and SLSA provenance v1 made from what the build knows. They are
// build outputs; `wharf push` wraps them in signed DSSE envelopes at `bazel run` time.
package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Predicate types (cosign's --type spdxjson, cyclonedx and slsaprovenance1).
const (
	StatementType       = "https://in-toto.io/Statement/v1"
	SPDXPredicate       = "https://spdx.dev/Document"
	CycloneDXPredicate  = "https://cyclonedx.org/bom"
	ProvenancePredicate = "https://slsa.dev/provenance/v1"
)

// Subject is what a statement is about: a manifest or index by digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is an in-toto Statement v1.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// SubjectOf names a manifest or index by its descriptor's digest; a descriptor with a
// platform adds it to the name, so that an index's images, which share a label, differ.
func SubjectOf(name string, d v1.Descriptor) (Subject, error) {
	if d.Digest.Algorithm != "sha256" || len(d.Digest.Hex) != 64 {
		return Subject{}, fmt.Errorf("subject %s: digest %q is not a sha256 digest", name, d.Digest)
	}
	if d.Platform != nil {
		name += " (" + d.Platform.String() + ")"
	}
	return Subject{Name: name, Digest: map[string]string{"sha256": d.Digest.Hex}}, nil
}

// Marshal writes the statement as one line of JSON: the predicate compacted, so the same
// inputs give the same bytes.
func (s *Statement) Marshal() ([]byte, error) {
	if len(s.Subject) == 0 {
		return nil, fmt.Errorf("statement of %s has no subject", s.PredicateType)
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	// SBOM text (package descriptions, URLs) as written, not \u003c-escaped.
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		return nil, fmt.Errorf("statement of %s: %w", s.PredicateType, err)
	}
	return b.Bytes(), nil
}

// New is a statement about subjects whose predicate is the JSON object in the file at
// path (e.g. an SBOM document).
func New(subjects []Subject, predicateType, path string) (*Statement, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("predicate: %w", err)
	}
	if err := checkObject(b); err != nil {
		return nil, fmt.Errorf("predicate %s: %w", path, err)
	}
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		return nil, fmt.Errorf("predicate %s: %w", path, err)
	}
	return &Statement{Type: StatementType, Subject: subjects, PredicateType: predicateType, Predicate: c.Bytes()}, nil
}

// checkObject reports whether b is one JSON object, as a predicate must be.
func checkObject(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("not a JSON object")
	}
	return nil
}
