package verbs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// readBlob reads a small blob (index, manifest, config) from a layout and checks its digest.
// Symlinks are followed: inside a Bazel sandbox every file of a directory input is one.
func readBlob(dir string, d v1.Hash) ([]byte, error) {
	if d.Algorithm != "sha256" {
		return nil, fmt.Errorf("blob %s: only sha256 is supported", d)
	}
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Hex))
	if err != nil {
		return nil, err
	}
	if got := oci.Digest(b); got != d {
		return nil, fmt.Errorf("blob %s has digest %s", d, got)
	}
	return b, nil
}

// importLayoutVerb describes the image for one platform in an OCI layout (rules_oci's output,
// a pulled image, ...) as a base: its config and its layers' metadata. It reads only
// index.json, manifests and the config, never layer bytes.
func importLayoutVerb(args []string) error {
	var dir, osName, arch, variant, configOut, layersOut string
	fs := newFlags("layout-import")
	fs.StringVar(&dir, "layout", "", "OCI layout directory")
	fs.StringVar(&osName, "os", "linux", "platform OS to pick")
	fs.StringVar(&arch, "arch", "", "platform architecture to pick")
	fs.StringVar(&variant, "variant", "", "platform variant to pick")
	fs.StringVar(&configOut, "config", "", "output: the image config")
	fs.StringVar(&layersOut, "layers", "", "output: JSON list of layer metadata, bottom first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("layout", dir, "arch", arch, "config", configOut, "layers", layersOut); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return fmt.Errorf("layout %s: %w", dir, err)
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
				child, err := readBlob(dir, d.Digest)
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
			mb, err := readBlob(dir, d.Digest)
			if err != nil {
				return err
			}
			m, err := v1.ParseManifest(bytes.NewReader(mb))
			if err != nil {
				return err
			}
			cb, err := readBlob(dir, m.Config.Digest)
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
		return fmt.Errorf("layout %s: %w", dir, err)
	}
	if manifest == nil {
		return fmt.Errorf("layout %s has no image for %s/%s", dir, osName, arch)
	}
	cfg, _ := v1.ParseConfigFile(bytes.NewReader(config))
	if len(cfg.RootFS.DiffIDs) != len(manifest.Layers) {
		return fmt.Errorf("layout %s: config lists %d layers, manifest %d", dir, len(cfg.RootFS.DiffIDs), len(manifest.Layers))
	}
	var metas []*layer.Metadata
	for i, l := range manifest.Layers {
		m := &layer.Metadata{MediaType: string(l.MediaType), Digest: l.Digest.String(), Size: l.Size,
			DiffID: cfg.RootFS.DiffIDs[i].String(), Annotations: l.Annotations}
		if err := m.Validate(); err != nil {
			return fmt.Errorf("layout %s: layer %d: %w", dir, i, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", l.Digest.Hex)); err != nil {
			return fmt.Errorf("layout %s: layer %d: %w", dir, i, err)
		}
		metas = append(metas, m)
	}
	lb, err := json.MarshalIndent(metas, "", "  ")
	if err != nil {
		return err
	}
	var outs atomicfile.Set
	defer outs.Abort()
	if err := outs.WriteFile(configOut, config); err != nil {
		return err
	}
	if err := outs.WriteFile(layersOut, append(lb, '\n')); err != nil {
		return err
	}
	return outs.Commit()
}

// externLayer is a layer's metadata and where its blob is (a file, or inside a layout
// directory).
type externLayer struct {
	meta *layer.Metadata
	path string
}

// readLayerArgs reads "--layer BLOB=METADATA" values.
func readLayerArgs(values []string) ([]externLayer, error) {
	var out []externLayer
	for _, l := range values {
		blob, meta, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("--layer %q: want BLOB=METADATA", l)
		}
		m, err := layer.ReadMetadata(meta)
		if err != nil {
			return nil, err
		}
		out = append(out, externLayer{meta: m, path: blob})
	}
	return out, nil
}

// readExtern reads "--extern LAYERS_JSON=DIR" values.
func readExtern(values []string) ([]externLayer, error) {
	var out []externLayer
	for _, v := range values {
		list, dir, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("--extern %q: want LAYERS_JSON=DIR", v)
		}
		b, err := os.ReadFile(list)
		if err != nil {
			return nil, err
		}
		var metas []*layer.Metadata
		if err := json.Unmarshal(b, &metas); err != nil {
			return nil, fmt.Errorf("%s: %w", list, err)
		}
		for _, m := range metas {
			if err := m.Validate(); err != nil {
				return nil, fmt.Errorf("%s: %w", list, err)
			}
			out = append(out, externLayer{meta: m, path: filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(m.Digest, "sha256:"))})
		}
	}
	return out, nil
}
