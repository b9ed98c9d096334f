package verbs

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

func imageVerb(args []string) error {
	var layers, baseLayers, baseExtern, defaults cli.Strings
	var specPath, specJSON, baseConfig, configOut, manifestOut, digestOut, descriptorOut string
	fs := newFlags("image")
	fs.Var(&layers, "layer", "layer metadata JSON, bottom first (repeatable)")
	fs.StringVar(&baseConfig, "base-config", "", "the base image's config JSON")
	fs.Var(&baseLayers, "base-layer", "the base image's layer metadata JSON, bottom first (repeatable)")
	fs.Var(&baseExtern, "base-extern", "LAYERS_JSON=DIR: base layers kept in a layout directory, below any --base-layer (repeatable)")
	fs.StringVar(&specPath, "spec", "", "image spec JSON file (config, platform)")
	fs.StringVar(&specJSON, "spec-json", "", "the image spec itself, instead of --spec (what the rules pass: no file to write and cache per image)")
	fs.Var(&defaults, "defaults", "image config defaults JSON (apko-image-config) below the spec's own values; an earlier file's values win (repeatable)")
	fs.StringVar(&configOut, "config", "", "output: config JSON")
	fs.StringVar(&manifestOut, "manifest", "", "output: manifest JSON")
	fs.StringVar(&digestOut, "digest", "", "output: manifest digest (sha256:…)")
	fs.StringVar(&descriptorOut, "descriptor", "", "output: manifest descriptor JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("config", configOut, "manifest", manifestOut, "digest", digestOut, "descriptor", descriptorOut); err != nil {
		return err
	}
	specName := "spec " + specPath
	var sf *oci.SpecFile
	var err error
	switch {
	case specPath != "" && specJSON != "":
		return fmt.Errorf("--spec and --spec-json both given: give one")
	case specJSON != "":
		specName = "--spec-json"
		if sf, err = oci.ParseSpecFile([]byte(specJSON)); err != nil {
			return fmt.Errorf("%s: %w", specName, err)
		}
	case specPath != "":
		if sf, err = readSpecFile("spec", specPath); err != nil {
			return err
		}
	default:
		return fmt.Errorf("missing required flag --spec or --spec-json")
	}
	if err := applyDefaults(sf, defaults); err != nil {
		return err
	}
	// ImageSpec checks the merged environment (defaults included) and the created time.
	spec, err := sf.ImageSpec()
	if err != nil {
		return fmt.Errorf("%s: %w", specName, err)
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

// readSpecFile reads a spec file (what: spec or defaults).
func readSpecFile(what, path string) (*oci.SpecFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sf, err := oci.ParseSpecFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return sf, nil
}

// applyDefaults applies the defaults files under the spec, in order: an earlier file's
// values win.
func applyDefaults(sf *oci.SpecFile, paths []string) error {
	for _, p := range paths {
		d, err := readSpecFile("defaults", p)
		if err != nil {
			return err
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
