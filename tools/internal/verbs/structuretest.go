package verbs

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
	"github.com/rules-wharf/rules_wharf/tools/internal/structuretest"
)

// structureTestVerb runs container-structure-test YAML and policy rules against an image's
// config and layers (structuretest.Run), writing the report to log.
func structureTestVerb(args []string, log io.Writer) error {
	var configs, layers, extern cli.Strings
	var o structuretest.Options
	var baseDigest, baseConfig string
	fs := newFlags("structure-test")
	fs.Var(&configs, "config", "container-structure-test YAML file, schemaVersion 2.0.0 (repeatable)")
	fs.StringVar(&o.ImageConfig, "image-config", "", "the image config JSON")
	fs.Var(&layers, "layer", "BLOB=METADATA, bottom first, above any --extern layers (repeatable)")
	fs.Var(&extern, "extern", "LAYERS_JSON=DIR: bottom layers whose blobs are in a layout directory (repeatable)")
	fs.StringVar(&baseDigest, "base-digest", "", "file holding the base image's manifest digest (for --allowed-base-digest)")
	fs.StringVar(&baseConfig, "base-config", "", "the base image's config JSON: its layers must be the image's bottom layers")
	policyFlags(fs, &o.Policy)
	if err := parseFlags(fs, args, log); err != nil {
		return err
	}
	if err := cli.Require("image-config", o.ImageConfig); err != nil {
		return err
	}
	all, err := oci.ReadLayers(extern, layers)
	if err != nil {
		return err
	}
	for _, l := range all {
		o.Layers = append(o.Layers, structuretest.Layer{Path: l.Path, Name: l.Meta.Digest})
	}
	if err := readBase(&o.Policy, baseDigest, baseConfig); err != nil {
		return err
	}
	o.Configs = configs
	results, err := structuretest.Run(o)
	if err != nil {
		return err
	}
	return structuretest.Report(log, results)
}

func policyFlags(fs *flag.FlagSet, p *structuretest.Policy) {
	fs.BoolVar(&p.NonRoot, "non-root", false, "fail when the config's user is root (empty, 0, root, or uid 0 in /etc/passwd)")
	fs.BoolVar(&p.NoSetuid, "no-setuid", false, "fail on any setuid or setgid file")
	fs.BoolVar(&p.NoWorldWritable, "no-world-writable", false, "fail on any world-writable file or directory (sticky directories excepted)")
	fs.Var((*cli.Strings)(&p.ForbiddenPaths), "forbidden-path", "fail when this path exists (repeatable)")
	fs.Var((*cli.Strings)(&p.ForbiddenPackages), "forbidden-package", "fail when the SBOM lists this package (repeatable)")
	fs.Var((*cli.Strings)(&p.AllowedBaseDigests), "allowed-base-digest", "the base image's digest must be one of these (repeatable)")
	fs.Var((*cli.Strings)(&p.AllowedPackages), "allowed-package", "every package the SBOM lists must be one of these (repeatable)")
	fs.Var((*cli.Strings)(&p.DeniedPackages), "denied-package", "no package the SBOM lists may be one of these (repeatable)")
	fs.Var((*cli.Strings)(&p.AllowedLicenses), "allowed-license", "every license id of every package must be one of these (repeatable)")
	fs.Var((*cli.Strings)(&p.DeniedLicenses), "denied-license", "no package may carry one of these license ids (repeatable)")
	fs.StringVar(&p.SBOM, "sbom", "", "the image's SPDX JSON SBOM, read by the package and license rules")
}

func readBase(p *structuretest.Policy, digestFile, configFile string) error {
	if len(p.AllowedBaseDigests) == 0 {
		return nil
	}
	if digestFile == "" || configFile == "" {
		return fmt.Errorf("--allowed-base-digest needs --base-digest and --base-config (the rule's base attribute)")
	}
	b, err := os.ReadFile(digestFile)
	if err != nil {
		return err
	}
	p.BaseDigest = strings.TrimSpace(string(b))
	_, cf, err := structuretest.ReadImageConfig(configFile)
	if err != nil {
		return err
	}
	for _, d := range cf.RootFS.DiffIDs {
		p.BaseDiffIDs = append(p.BaseDiffIDs, d.String())
	}
	return nil
}
