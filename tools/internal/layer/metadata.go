// Package layer writes deterministic OCI layers and the small metadata file that lets image
// and index actions describe a layer without ever reading its bytes.
package layer

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Media types of the layers we write.
const (
	MediaTypeGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
	MediaTypeZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
	MediaTypeTar  = "application/vnd.oci.image.layer.v1.tar"
)

// Metadata describes one layer blob. It is what a layer action writes next to the blob and
// all that manifest, index and SBOM actions read.
type Metadata struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	DiffID      string            `json:"diffID"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// CreatedBy goes into the image config's history entry for this layer.
	CreatedBy string `json:"createdBy,omitempty"`
}

// Validate checks the fields an image needs.
func (m *Metadata) Validate() error {
	for _, d := range []struct{ name, v string }{{"digest", m.Digest}, {"diffID", m.DiffID}} {
		hex, ok := strings.CutPrefix(d.v, "sha256:")
		if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
			return fmt.Errorf("%s %q is not a sha256 digest", d.name, d.v)
		}
	}
	switch m.MediaType {
	case MediaTypeGzip, MediaTypeZstd, MediaTypeTar,
		"application/vnd.docker.image.rootfs.diff.tar.gzip":
	default:
		return fmt.Errorf("unsupported layer media type %q", m.MediaType)
	}
	if m.Size <= 0 {
		return fmt.Errorf("size %d", m.Size)
	}
	return nil
}

// ReadMetadata reads and validates a metadata file.
func ReadMetadata(path string) (*Metadata, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := &Metadata{}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("layer metadata %s: %w", path, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("layer metadata %s: %w", path, err)
	}
	return m, nil
}

// Marshal renders metadata deterministically.
func (m *Metadata) Marshal() []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // plain struct: cannot fail
	}
	return append(b, '\n')
}
