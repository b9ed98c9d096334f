package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The provenance's build type and builder: a Bazel build with rules_wharf's rules.
const (
	BuildType = "https://github.com/rules-wharf/rules_wharf/provenance/oci_image/v1"
	BuilderID = "https://github.com/rules-wharf/rules_wharf/bazel"
)

// ResourceDescriptor is SLSA v1's: an input by digest.
type ResourceDescriptor struct {
	Name        string            `json:"name,omitempty"`
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Content     []byte            `json:"content,omitempty"`
	MediaType   string            `json:"mediaType,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Provenance is the SLSA provenance v1 predicate.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition says what was built from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   map[string]string    `json:"externalParameters"`
	InternalParameters   map[string]string    `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// RunDetails says who built it and, when stamping, which build it was.
type RunDetails struct {
	Builder  Builder        `json:"builder"`
	Metadata *BuildMetadata `json:"metadata,omitempty"`
}

// Builder identifies the build platform.
type Builder struct {
	ID string `json:"id"`
}

// BuildMetadata is the stamped build's label and time.
type BuildMetadata struct {
	InvocationID string `json:"invocationId,omitempty"`
	StartedOn    string `json:"startedOn,omitempty"`
}

// Build is what the provenance of one image or index records.
type Build struct {
	Target   string               // the image's label (externalParameters.target)
	Subjects []Subject            // the manifest, or the index and its manifests
	Inputs   []ResourceDescriptor // locks, bases, layers, in that order
	Versions map[string]string    // internalParameters: rules_wharf and tool versions
	Status   map[string]string    // the workspace status when stamping; nil otherwise
}

// Statement is the build's provenance as an in-toto statement.
func (b *Build) Statement() (*Statement, error) {
	p := Provenance{
		BuildDefinition: BuildDefinition{
			BuildType:            BuildType,
			ExternalParameters:   map[string]string{"target": b.Target},
			InternalParameters:   b.Versions,
			ResolvedDependencies: append(source(b.Status), b.Inputs...),
		},
		RunDetails: RunDetails{Builder: Builder{ID: BuilderID}},
	}
	m, err := metadata(b.Status)
	if err != nil {
		return nil, err
	}
	p.RunDetails.Metadata = m
	pb, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("provenance of %s: %w", b.Target, err)
	}
	return &Statement{Type: StatementType, Subject: b.Subjects, PredicateType: ProvenancePredicate, Predicate: pb}, nil
}

// revisionKeys are the workspace status keys a source revision is read from, first found wins.
var revisionKeys = []string{"STABLE_GIT_COMMIT", "BUILD_SCM_REVISION", "STABLE_BUILD_SCM_REVISION"}

// source is the revision the workspace status names, as a dependency: by gitCommit digest
// when it is a commit hash; other text (a "-dirty" suffix, `git describe`) is the
// dependency's content, as the status gave it, since a descriptor needs a digest or content.
func source(status map[string]string) []ResourceDescriptor {
	for _, k := range revisionKeys {
		rev := status[k]
		if rev == "" {
			continue
		}
		d := ResourceDescriptor{Name: "source", Annotations: map[string]string{"revision": rev, "statusKey": k}}
		if isHex(rev) && (len(rev) == 40 || len(rev) == 64) {
			d.Digest = map[string]string{"gitCommit": rev}
		} else {
			d.Content, d.MediaType = []byte(rev), "text/plain"
		}
		return []ResourceDescriptor{d}
	}
	return nil
}

// metadata is the build label (--embed_label) and BUILD_TIMESTAMP of a stamped build.
func metadata(status map[string]string) (*BuildMetadata, error) {
	m := BuildMetadata{InvocationID: status["BUILD_EMBED_LABEL"]}
	if ts := status["BUILD_TIMESTAMP"]; ts != "" {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("workspace status BUILD_TIMESTAMP %q is not seconds since the epoch", ts)
		}
		m.StartedOn = time.Unix(sec, 0).UTC().Format(time.RFC3339)
	}
	if m == (BuildMetadata{}) {
		return nil, nil
	}
	return &m, nil
}

func isHex(s string) bool { return strings.Trim(s, "0123456789abcdef") == "" }

// FileInput is a file (e.g. a lock) by its sha256, read in chunks.
func FileInput(name, path string) (ResourceDescriptor, error) {
	f, err := os.Open(path)
	if err != nil {
		return ResourceDescriptor{}, fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ResourceDescriptor{}, fmt.Errorf("%s: %s: %w", name, path, err)
	}
	return ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": hex.EncodeToString(h.Sum(nil))}}, nil
}

// DescriptorInput is an image or index by the digest its descriptor gives.
func DescriptorInput(name string, d v1.Descriptor) ResourceDescriptor {
	return ResourceDescriptor{Name: name, Digest: map[string]string{d.Digest.Algorithm: d.Digest.Hex}, MediaType: string(d.MediaType)}
}

// ManifestLayers lists the layers of the manifest at path, bottom first, each named by
// labels[digest] when the build knows who made it (a pulled base's layers have no name).
func ManifestLayers(path string, labels map[string]string) ([]ResourceDescriptor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	var out []ResourceDescriptor
	for _, l := range m.Layers {
		if l.Digest.Algorithm != "sha256" {
			return nil, fmt.Errorf("manifest %s: layer digest %q is not a sha256 digest", path, l.Digest)
		}
		out = append(out, ResourceDescriptor{
			Name:      labels[l.Digest.String()],
			Digest:    map[string]string{"sha256": l.Digest.Hex},
			MediaType: string(l.MediaType),
		})
	}
	return out, nil
}
