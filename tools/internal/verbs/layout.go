package verbs

import (
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

func layoutVerb(args []string) error {
	var layers, blobs, extern cli.Strings
	var descriptorPath, refName, out string
	fs := newFlags("layout")
	fs.StringVar(&descriptorPath, "descriptor", "", "descriptor JSON of what index.json lists (an image manifest or an index)")
	fs.Var(&blobs, "blob", "small blob (manifest, config, index), placed under its sha256 (repeatable)")
	fs.Var(&layers, "layer", "BLOB=METADATA: a layer, placed under the digest its metadata gives (repeatable)")
	fs.Var(&extern, "extern", "LAYERS_JSON=DIR: layers whose blobs are in another layout directory (repeatable)")
	fs.StringVar(&refName, "ref-name", "", "org.opencontainers.image.ref.name of the entry in index.json")
	fs.StringVar(&out, "out", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("descriptor", descriptorPath, "out", out); err != nil {
		return err
	}
	desc, err := oci.ReadDescriptor(descriptorPath)
	if err != nil {
		return err
	}
	var placed []oci.Blob
	found := false
	for _, p := range blobs {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		d := oci.Digest(b)
		found = found || d == desc.Digest
		placed = append(placed, oci.Blob{Digest: d, Path: p})
	}
	if !found {
		return fmt.Errorf("no --blob has the descriptor's digest %s", desc.Digest)
	}
	all, err := oci.ReadLayers(extern, layers)
	if err != nil {
		return err
	}
	for _, e := range all {
		d, err := v1.NewHash(e.Meta.Digest)
		if err != nil {
			return err
		}
		placed = append(placed, oci.Blob{Digest: d, Path: e.Path})
	}
	d, err := atomicfile.CreateDir(out)
	if err != nil {
		return err
	}
	defer d.Abort()
	if err := oci.WriteLayout(d.Path, desc, refName, placed); err != nil {
		return err
	}
	return d.Commit()
}
