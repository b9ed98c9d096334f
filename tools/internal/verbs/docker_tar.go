package verbs

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// dockerTarVerb writes a `docker load` / `podman load` tarball from an image's config and
// layer blobs (oci.WriteDockerTar).
func dockerTarVerb(args []string) error {
	var layers, extern cli.Strings
	var configPath, tag, out string
	fs := newFlags("docker-tar")
	fs.StringVar(&configPath, "config", "", "the image config JSON")
	fs.Var(&layers, "layer", "BLOB=METADATA, bottom first, above any --extern layers (repeatable)")
	fs.Var(&extern, "extern", "LAYERS_JSON=DIR: bottom layers whose blobs are in a layout directory (repeatable)")
	fs.StringVar(&tag, "tag", "", "repository:tag the loaded image gets")
	fs.StringVar(&out, "out", "", "output: the tarball")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("config", configPath, "tag", tag, "out", out); err != nil {
		return err
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	config, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	all, err := oci.ReadLayers(extern, layers)
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(out)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := oci.WriteDockerTar(f, config, ref, all); err != nil {
		return err
	}
	return f.Commit()
}
