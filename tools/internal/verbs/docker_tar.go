package verbs

import (
	"fmt"
	"os"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/loadtar"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
	"github.com/rules-wharf/rules_wharf/tools/internal/stamp"
)

// dockerTarVerb writes a tarball that docker, podman and containerd load (oci.WriteDockerTar)
// or, with --plan, oci_load's description of it for `wharf load-tar` (loadtar.NewPlan), and
// with --facts what oci_load's run script reads about it (oci.LoadFacts).
func dockerTarVerb(args []string) error {
	var layers, extern, tags, status, origins, runfiles cli.Strings
	var configPath, manifestPath, descriptorPath, out, facts, plan, image string
	fs := newFlags("docker-tar")
	fs.StringVar(&configPath, "config", "", "the image config JSON")
	fs.StringVar(&manifestPath, "manifest", "", "the image manifest JSON; with --descriptor the tarball is an OCI layout too and keeps the manifest digest")
	fs.StringVar(&descriptorPath, "descriptor", "", "the manifest's descriptor JSON (with --manifest)")
	fs.Var(&layers, "layer", "BLOB=METADATA, bottom first, above any --extern layers (repeatable)")
	fs.Var(&extern, "extern", "LAYERS_JSON=DIR: bottom layers whose blobs are in a layout directory (repeatable)")
	fs.Var(&tags, "tag", "repository:tag the loaded image gets (repeatable; the first names it in index.json)")
	fs.Var(&status, "status", "a workspace status file expanding {KEY} in tags (repeatable); given only when stamping")
	fs.StringVar(&out, "out", "", "output: the tarball")
	fs.StringVar(&facts, "facts", "", "output: the platform, digests and tags, for oci_load's run script")
	fs.StringVar(&plan, "plan", "", "output, instead of --out: the tarball described for `wharf load-tar`, an --extern's missing blobs by their --origin")
	fs.StringVar(&image, "image", "", "the image's label, for --plan's messages")
	fs.Var(&origins, "origin", "LAYERS_JSON=REPOSITORY: the registry repository an --extern was pulled from (with --plan; repeatable)")
	fs.Var(&runfiles, "runfile", "EXEC_PATH=RUNFILES_PATH of a blob or layout directory (with --plan; repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("config", configPath); err != nil {
		return err
	}
	if (out == "") == (plan == "") {
		return fmt.Errorf("give one of --out (the tarball) and --plan (its description)")
	}
	d, unstamped, err := readDockerTar(configPath, manifestPath, descriptorPath, tags, status)
	if err != nil {
		return err
	}
	if facts != "" {
		if err := atomicfile.WriteFile(facts, oci.LoadFacts(d, unstamped)); err != nil {
			return err
		}
	}
	if plan != "" {
		return writeLoadPlan(plan, loadtar.Inputs{Image: image, Tar: d, Extern: extern, Origins: origins, Layers: layers, Runfiles: runfiles})
	}
	return writeDockerTar(out, d, extern, layers)
}

// writeDockerTar reads the layers and writes the tarball.
func writeDockerTar(out string, d oci.DockerTar, extern, layers []string) error {
	var err error
	if d.Layers, err = oci.ReadLayers(extern, layers); err != nil {
		return err
	}
	f, err := atomicfile.Create(out)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := oci.WriteDockerTar(f, d); err != nil {
		return err
	}
	return f.Commit()
}

func writeLoadPlan(out string, in loadtar.Inputs) error {
	p, err := loadtar.NewPlan(in)
	if err != nil {
		return err
	}
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(out, b)
}

// readDockerTar reads the config, the manifest with its descriptor (checking they agree)
// and expands the tags.
func readDockerTar(configPath, manifestPath, descriptorPath string, tags, status []string) (oci.DockerTar, []string, error) {
	var d oci.DockerTar
	var unstamped []string
	var err error
	var values map[string]string
	if len(status) > 0 {
		if values, err = stamp.ReadStatus(status...); err != nil {
			return d, nil, err
		}
	}
	d.Tags, unstamped, err = oci.LoadTags(tags, values)
	if err != nil {
		return d, nil, err
	}
	if d.Config, err = os.ReadFile(configPath); err != nil {
		return d, nil, err
	}
	if (manifestPath == "") != (descriptorPath == "") {
		return d, nil, fmt.Errorf("--manifest and --descriptor go together")
	}
	if manifestPath == "" {
		return d, unstamped, nil
	}
	desc, err := oci.ReadDescriptor(descriptorPath)
	if err != nil {
		return d, nil, err
	}
	if d.Manifest, err = os.ReadFile(manifestPath); err != nil {
		return d, nil, err
	}
	if got := oci.Digest(d.Manifest); got != desc.Digest || int64(len(d.Manifest)) != desc.Size {
		return d, nil, fmt.Errorf("manifest %s is %s (%d bytes), but its descriptor %s says %s (%d bytes)", manifestPath, got, len(d.Manifest), descriptorPath, desc.Digest, desc.Size)
	}
	d.Descriptor = &desc
	return d, unstamped, nil
}
