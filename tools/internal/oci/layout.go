package oci

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RefNameAnnotation names an image in an OCI layout's index.json.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// Blob is a file to place into a layout under its digest.
type Blob struct {
	Digest v1.Hash
	Path   string
}

// WriteLayout creates an OCI layout in dir (which must not exist or be empty) with an
// index.json listing desc, annotated with refName when set. Blobs are copied, not
// hardlinked: Bazel changes the mode of outputs, which would also change a linked input.
func WriteLayout(dir string, desc v1.Descriptor, refName string, blobs []Blob) error {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	seen := map[v1.Hash]bool{}
	for _, b := range blobs {
		if seen[b.Digest] {
			continue
		}
		seen[b.Digest] = true
		if b.Digest.Algorithm != "sha256" {
			return fmt.Errorf("blob %s: only sha256 is supported", b.Digest)
		}
		if err := CopyFile(b.Path, filepath.Join(dir, "blobs", "sha256", b.Digest.Hex)); err != nil {
			return fmt.Errorf("blob %s: %w", b.Digest, err)
		}
	}
	if refName != "" {
		desc.Annotations = map[string]string{RefNameAnnotation: refName}
	}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{desc}}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644)
}

// CopyFile copies the file src resolves to (through symlinks, as Bazel stages inputs) to a
// new file dst.
func CopyFile(src, dst string) error {
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	in, err := os.Open(real)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return out.Close()
}
