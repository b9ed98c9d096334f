package verbs

import (
	"encoding/json"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// importLayoutVerb describes the image for one platform in an OCI layout as a base
// (oci.ImportLayout).
func importLayoutVerb(args []string) error {
	var dir, osName, arch, variant, configOut, layersOut, descriptorOut string
	var shallow bool
	fs := newFlags("layout-import")
	fs.StringVar(&dir, "layout", "", "OCI layout directory")
	fs.StringVar(&osName, "os", "linux", "platform OS to pick")
	fs.StringVar(&arch, "arch", "", "platform architecture to pick")
	fs.StringVar(&variant, "variant", "", "platform variant to pick")
	fs.StringVar(&configOut, "config", "", "output: the image config")
	fs.StringVar(&layersOut, "layers", "", "output: JSON list of layer metadata, bottom first")
	fs.StringVar(&descriptorOut, "descriptor", "", "output (optional): the image manifest's descriptor, with its platform")
	fs.BoolVar(&shallow, "shallow", false, "the layout may lack layer blobs (a shallow oci.pull): only their metadata is read")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("layout", dir, "arch", arch, "config", configOut, "layers", layersOut); err != nil {
		return err
	}
	importer := oci.ImportLayout
	if shallow {
		importer = oci.ImportShallowLayout
	}
	im, err := importer(dir, osName, arch, variant)
	if err != nil {
		return err
	}
	lb, err := json.MarshalIndent(im.Layers, "", "  ")
	if err != nil {
		return err
	}
	var outs atomicfile.Set
	defer outs.Abort()
	if err := outs.WriteFile(configOut, im.Config); err != nil {
		return err
	}
	if descriptorOut != "" {
		db, err := json.Marshal(im.Descriptor)
		if err != nil {
			return err
		}
		if err := outs.WriteFile(descriptorOut, append(db, '\n')); err != nil {
			return err
		}
	}
	if err := outs.WriteFile(layersOut, append(lb, '\n')); err != nil {
		return err
	}
	return outs.Commit()
}
