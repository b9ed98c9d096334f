package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// ReadDescriptor reads a descriptor an earlier action wrote and checks what a manifest or
// index built from it relies on.
func ReadDescriptor(path string) (v1.Descriptor, error) {
	var d v1.Descriptor
	b, err := os.ReadFile(path)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("descriptor %s: %w", path, err)
	}
	switch {
	case d.MediaType == "":
		return d, fmt.Errorf("descriptor %s: no mediaType", path)
	case d.Digest.Algorithm != "sha256" || len(d.Digest.Hex) != 64:
		return d, fmt.Errorf("descriptor %s: digest %q is not a sha256 digest", path, d.Digest)
	case d.Size <= 0:
		return d, fmt.Errorf("descriptor %s: size %d (a manifest is never empty)", path, d.Size)
	case d.Platform != nil && (d.Platform.OS == "" || d.Platform.Architecture == ""):
		return d, fmt.Errorf("descriptor %s: platform %q has no os or architecture", path, d.Platform.OS+"/"+d.Platform.Architecture)
	}
	return d, nil
}

// LayerFile is a layer's metadata and where its blob is (a file, or inside a layout
// directory), or, with Open, how to read it (oci_load's run time: from a registry).
type LayerFile struct {
	Meta *layer.Metadata
	Path string
	Open func() (io.ReadCloser, error)
}

// open reads the blob: through Open when set, else the file at Path.
func (e LayerFile) open() (io.ReadCloser, error) {
	if e.Open != nil {
		return e.Open()
	}
	return os.Open(e.Path)
}

// ReadLayerArgs reads "--layer BLOB=METADATA" values.
func ReadLayerArgs(values []string) ([]LayerFile, error) {
	var out []LayerFile
	for _, l := range values {
		blob, meta, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("--layer %q: want BLOB=METADATA", l)
		}
		m, err := layer.ReadMetadata(meta)
		if err != nil {
			return nil, err
		}
		out = append(out, LayerFile{Meta: m, Path: blob})
	}
	return out, nil
}

// ReadLayers reads an image's layers bottom first: the --extern ones, then the --layer ones,
// for a verb that reads their bytes: every extern blob must be there.
func ReadLayers(extern, layers []string) ([]LayerFile, error) {
	ext, err := ReadExtern(extern)
	if err != nil {
		return nil, err
	}
	for _, e := range ext {
		if err := ExternPresent(e); err != nil {
			return nil, err
		}
	}
	own, err := ReadLayerArgs(layers)
	if err != nil {
		return nil, err
	}
	return append(ext, own...), nil
}

// ReadExtern reads "--extern LAYERS_JSON=DIR" values: layers whose blobs are in a layout
// directory.
func ReadExtern(values []string) ([]LayerFile, error) {
	var out []LayerFile
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
			out = append(out, LayerFile{Meta: m, Path: filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(m.Digest, "sha256:"))})
		}
	}
	return out, nil
}

// ShallowHint says why a pulled base's layer blob may be absent and how to get it.
const ShallowHint = "oci.pull fetches a base's layer blobs only for builds that ask for them: " +
	"set fetch_base_layers = True on the oci_load or oci_structure_test, " +
	"or build with --@rules_wharf//oci/settings:fetch_base_layers (an image's tarball or layout output group)"

// ExternPresent checks that a layer kept in an imported layout is there: a shallow pull's
// layout holds none.
func ExternPresent(e LayerFile) error {
	_, err := os.Stat(e.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("base layer %s (%d bytes) is not in the layout %s: %s",
			e.Meta.Digest, e.Meta.Size, strings.TrimSuffix(filepath.Dir(filepath.Dir(filepath.Dir(e.Path))), "/"), ShallowHint)
	}
	return err
}

// ReadMetadata reads layer metadata files, in order.
func ReadMetadata(paths []string) ([]*layer.Metadata, error) {
	var out []*layer.Metadata
	for _, p := range paths {
		m, err := layer.ReadMetadata(p)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// ReadBase reads a base image: its config, and its layers' metadata, bottom first: those
// of extern (LAYERS_JSON=DIR values, ReadExtern), then those of the metadata files.
func ReadBase(configPath string, extern, metadata []string) (*v1.ConfigFile, []*layer.Metadata, error) {
	b, err := os.ReadFile(configPath)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("base config %s: %w", configPath, err)
	}
	ext, err := ReadExtern(extern)
	if err != nil {
		return nil, nil, err
	}
	var layers []*layer.Metadata
	for _, e := range ext {
		layers = append(layers, e.Meta)
	}
	own, err := ReadMetadata(metadata)
	if err != nil {
		return nil, nil, err
	}
	return cfg, append(layers, own...), nil
}
