package oci

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// ReadBlob reads a small blob (index, manifest, config) from a layout and checks its digest.
// Symlinks are followed: inside a Bazel sandbox every file of a directory input is one.
func ReadBlob(dir string, d v1.Hash) ([]byte, error) {
	if d.Algorithm != "sha256" {
		return nil, fmt.Errorf("blob %s: only sha256 is supported", d)
	}
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Hex))
	if err != nil {
		return nil, err
	}
	if got := Digest(b); got != d {
		return nil, fmt.Errorf("blob %s has digest %s", d, got)
	}
	return b, nil
}

// ImportLayout describes the image for one platform in an OCI layout (rules_oci's output,
// a pulled image, ...) as a base: its config and its layers' metadata, bottom first. It
// reads only index.json, manifests and the config, never layer bytes.
func ImportLayout(dir, osName, arch, variant string) ([]byte, []*layer.Metadata, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("layout %s: %w", dir, err)
	}
	var manifest *v1.Manifest
	var config []byte
	var visit func(idx []byte, depth int) error
	visit = func(idx []byte, depth int) error {
		im, err := v1.ParseIndexManifest(bytes.NewReader(idx))
		if err != nil {
			return err
		}
		for _, d := range im.Manifests {
			if d.MediaType.IsIndex() && depth < 4 {
				child, err := ReadBlob(dir, d.Digest)
				if err != nil {
					return err
				}
				if err := visit(child, depth+1); err != nil {
					return err
				}
				continue
			}
			if !d.MediaType.IsImage() {
				continue
			}
			if d.Platform != nil && (d.Platform.OS != osName || d.Platform.Architecture != arch ||
				(variant != "" && d.Platform.Variant != "" && d.Platform.Variant != variant)) {
				continue
			}
			mb, err := ReadBlob(dir, d.Digest)
			if err != nil {
				return err
			}
			m, err := v1.ParseManifest(bytes.NewReader(mb))
			if err != nil {
				return err
			}
			cb, err := ReadBlob(dir, m.Config.Digest)
			if err != nil {
				return err
			}
			cfg, err := v1.ParseConfigFile(bytes.NewReader(cb))
			if err != nil {
				return err
			}
			if cfg.OS != osName || cfg.Architecture != arch {
				continue
			}
			if manifest != nil {
				return fmt.Errorf("more than one image for %s/%s", osName, arch)
			}
			manifest, config = m, cb
		}
		return nil
	}
	if err := visit(b, 0); err != nil {
		return nil, nil, fmt.Errorf("layout %s: %w", dir, err)
	}
	if manifest == nil {
		return nil, nil, fmt.Errorf("layout %s has no image for %s/%s", dir, osName, arch)
	}
	cfg, _ := v1.ParseConfigFile(bytes.NewReader(config))
	if len(cfg.RootFS.DiffIDs) != len(manifest.Layers) {
		return nil, nil, fmt.Errorf("layout %s: config lists %d layers, manifest %d", dir, len(cfg.RootFS.DiffIDs), len(manifest.Layers))
	}
	var metas []*layer.Metadata
	for i, l := range manifest.Layers {
		m := &layer.Metadata{MediaType: string(l.MediaType), Digest: l.Digest.String(), Size: l.Size,
			DiffID: cfg.RootFS.DiffIDs[i].String(), Annotations: l.Annotations}
		if err := m.Validate(); err != nil {
			return nil, nil, fmt.Errorf("layout %s: layer %d: %w", dir, i, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", l.Digest.Hex)); err != nil {
			return nil, nil, fmt.Errorf("layout %s: layer %d: %w", dir, i, err)
		}
		metas = append(metas, m)
	}
	return config, metas, nil
}
