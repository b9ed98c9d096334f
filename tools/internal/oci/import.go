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

// Imported is an image of an OCI layout, described as a base.
type Imported struct {
	Config     []byte            // the image config
	Layers     []*layer.Metadata // bottom first
	Descriptor v1.Descriptor     // the manifest's, with its platform (image provenance names the base by it)
}

// ImportLayout describes the image for one platform in an OCI layout (rules_oci's output,
// a pulled image, ...) as a base: its config, its layers' metadata, bottom first, and its
// manifest's descriptor. It reads only index.json, manifests and the config, never layer bytes,
// but the layout must hold every layer blob.
func ImportLayout(dir, osName, arch, variant string) (*Imported, error) {
	return importLayout(dir, osName, arch, variant, false)
}

// ImportShallowLayout is ImportLayout for a layout whose layer blobs may be absent (a shallow
// oci.pull): what needs their bytes later checks they are there (ReadLayers).
func ImportShallowLayout(dir, osName, arch, variant string) (*Imported, error) {
	return importLayout(dir, osName, arch, variant, true)
}

func importLayout(dir, osName, arch, variant string, shallow bool) (*Imported, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", dir, err)
	}
	f := &platformFinder{dir: dir, os: osName, arch: arch, variant: variant}
	if err := f.visit(b, 0); err != nil {
		return nil, fmt.Errorf("layout %s: %w", dir, err)
	}
	if f.manifest == nil {
		return nil, fmt.Errorf("layout %s has no image for %s/%s", dir, osName, arch)
	}
	metas, err := layoutLayers(dir, f.manifest, f.config, shallow)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", dir, err)
	}
	return &Imported{Config: f.config, Layers: metas, Descriptor: f.descriptor}, nil
}

// platformFinder looks through a layout's indexes for the one image of a platform.
type platformFinder struct {
	dir, os, arch, variant string
	manifest               *v1.Manifest // the image found, or nil
	config                 []byte
	descriptor             v1.Descriptor // the image's, with the platform its config gives
}

// visit looks at an index's images and, up to 4 deep, at its child indexes.
func (f *platformFinder) visit(idx []byte, depth int) error {
	im, err := v1.ParseIndexManifest(bytes.NewReader(idx))
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		if d.MediaType.IsIndex() && depth < 4 {
			child, err := ReadBlob(f.dir, d.Digest)
			if err != nil {
				return err
			}
			if err := f.visit(child, depth+1); err != nil {
				return err
			}
			continue
		}
		if !d.MediaType.IsImage() || !f.mayMatch(d.Platform) {
			continue
		}
		if err := f.image(d); err != nil {
			return err
		}
	}
	return nil
}

// mayMatch is false for a descriptor whose platform is another (a variant counts only
// when both name one).
func (f *platformFinder) mayMatch(p *v1.Platform) bool {
	return p == nil || (p.OS == f.os && p.Architecture == f.arch &&
		(f.variant == "" || p.Variant == "" || p.Variant == f.variant))
}

// image reads an image's manifest and config and takes it if its config is of the
// platform; a second such image is an error.
func (f *platformFinder) image(d v1.Descriptor) error {
	mb, err := ReadBlob(f.dir, d.Digest)
	if err != nil {
		return err
	}
	m, err := v1.ParseManifest(bytes.NewReader(mb))
	if err != nil {
		return err
	}
	cb, err := ReadBlob(f.dir, m.Config.Digest)
	if err != nil {
		return err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cb))
	if err != nil {
		return err
	}
	if cfg.OS != f.os || cfg.Architecture != f.arch {
		return nil
	}
	if f.manifest != nil {
		return fmt.Errorf("more than one image for %s/%s", f.os, f.arch)
	}
	d.Platform = &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	f.manifest, f.config, f.descriptor = m, cb, d
	return nil
}

// layoutLayers is the metadata of a manifest's layers, each of which the layout must hold
// unless shallow.
func layoutLayers(dir string, manifest *v1.Manifest, config []byte, shallow bool) ([]*layer.Metadata, error) {
	cfg, _ := v1.ParseConfigFile(bytes.NewReader(config))
	if len(cfg.RootFS.DiffIDs) != len(manifest.Layers) {
		return nil, fmt.Errorf("config lists %d layers, manifest %d", len(cfg.RootFS.DiffIDs), len(manifest.Layers))
	}
	var metas []*layer.Metadata
	for i, l := range manifest.Layers {
		m := &layer.Metadata{MediaType: string(l.MediaType), Digest: l.Digest.String(), Size: l.Size,
			DiffID: cfg.RootFS.DiffIDs[i].String(), Annotations: l.Annotations}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", l.Digest.Hex)); err != nil && !shallow {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		metas = append(metas, m)
	}
	return metas, nil
}
