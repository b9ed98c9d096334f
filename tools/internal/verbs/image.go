package verbs

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// imageVerb writes an image's config and manifest from the spec the rule encodes on the
// command line (--spec-json), the defaults files below it and the layers' metadata.
func imageVerb(args []string) error {
	var layers, baseLayers, baseExtern, defaults cli.Strings
	var specJSON, baseConfig, configOut, manifestOut, digestOut, descriptorOut string
	var st stamping
	fs := newFlags("image")
	st.flags(fs, true)
	fs.Var(&layers, "layer", "layer metadata JSON, bottom first (repeatable)")
	fs.StringVar(&baseConfig, "base-config", "", "the base image's config JSON")
	fs.Var(&baseLayers, "base-layer", "the base image's layer metadata JSON, bottom first (repeatable)")
	fs.Var(&baseExtern, "base-extern", "LAYERS_JSON=DIR: base layers kept in a layout directory, below any --base-layer (repeatable)")
	fs.StringVar(&specJSON, "spec-json", "", "the image spec JSON (config, platform; oci.SpecFile) itself: no file to write and cache per image")
	fs.Var(&defaults, "defaults", "image config defaults JSON (apko-image-config) below the spec's own values; an earlier file's values win (repeatable)")
	fs.StringVar(&configOut, "config", "", "output: config JSON")
	fs.StringVar(&manifestOut, "manifest", "", "output: manifest JSON")
	fs.StringVar(&digestOut, "digest", "", "output: manifest digest (sha256:…)")
	fs.StringVar(&descriptorOut, "descriptor", "", "output: manifest descriptor JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("config", configOut, "manifest", manifestOut, "digest", digestOut, "descriptor", descriptorOut, "spec-json", specJSON); err != nil {
		return err
	}
	spec, err := imageSpec(specJSON, &st, defaults)
	if err != nil {
		return err
	}
	if spec.Layers, err = oci.ReadMetadata(layers); err != nil {
		return err
	}
	if baseConfig != "" {
		if spec.Base, spec.BaseLayers, err = oci.ReadBase(baseConfig, baseExtern, baseLayers); err != nil {
			return err
		}
	}
	built, err := oci.Build(spec)
	if err != nil {
		return err
	}
	return writeImage(built, configOut, manifestOut, digestOut, descriptorOut)
}

// imageSpec is --spec-json with the labels and annotations files, stamped, then the
// defaults files applied under it, checked.
func imageSpec(specJSON string, st *stamping, defaults []string) (*oci.ImageSpec, error) {
	sf, err := oci.ParseSpecFile([]byte(specJSON))
	if err != nil {
		return nil, fmt.Errorf("--spec-json: %w", err)
	}
	if err := st.apply(sf); err != nil {
		return nil, err
	}
	if err := applyDefaults(sf, defaults); err != nil {
		return nil, err
	}
	// ImageSpec checks the merged environment (defaults included) and the created time.
	spec, err := sf.ImageSpec()
	if err != nil {
		return nil, fmt.Errorf("--spec-json: %w", err)
	}
	return spec, nil
}

// applyDefaults applies the defaults files under the spec, in order: an earlier file's
// values win.
func applyDefaults(sf *oci.SpecFile, paths []string) error {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		d, err := oci.ParseSpecFile(b)
		if err != nil {
			return fmt.Errorf("defaults %s: %w", p, err)
		}
		if err := sf.ApplyDefaults(d); err != nil {
			return fmt.Errorf("defaults %s: %w", p, err)
		}
	}
	return nil
}

// writeImage publishes an image's outputs in order: what describes the others last
// (atomicfile.Set).
func writeImage(built *oci.Built, configOut, manifestOut, digestOut, descriptorOut string) error {
	desc, err := json.Marshal(built.Descriptor)
	if err != nil {
		return err
	}
	var outs atomicfile.Set
	defer outs.Abort()
	for _, o := range []struct {
		path string
		data []byte
	}{
		{configOut, built.Config},
		{manifestOut, built.Manifest},
		{digestOut, []byte(built.Descriptor.Digest.String())},
		{descriptorOut, desc},
	} {
		if err := outs.WriteFile(o.path, o.data); err != nil {
			return err
		}
	}
	return outs.Commit()
}
