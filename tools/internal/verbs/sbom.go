package verbs

import (
	"fmt"
	"strings"

	"github.com/spdx/tools-golang/spdx"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/sbom"
)

func sbomVerb(args []string) error {
	var factsFiles, urls, layers cli.Strings
	var name, distro, out, cyclonedx string
	fs := newFlags("sbom")
	fs.Var(&factsFiles, "package", "package facts JSON from apk-extract (repeatable)")
	fs.Var(&urls, "url", "the lock's URL of each --package, in the same order (repeatable)")
	fs.StringVar(&name, "name", "", "document name (the image's label)")
	fs.StringVar(&distro, "distro", "", "distribution in package URLs (pkg:apk/<distro>/...); default: the ID of the os-release the packages install, else "+sbom.DefaultDistro)
	fs.Var(&layers, "layer", "METADATA=PART: a layer's metadata and its SBOM part from sbom-layer, bottom first (repeatable)")
	fs.StringVar(&out, "out", "", "output: SPDX 2.3 JSON")
	fs.StringVar(&cyclonedx, "cyclonedx", "", "output: the same as CycloneDX 1.6 JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("name", name, "out", out); err != nil {
		return err
	}
	if len(urls) != 0 && len(urls) != len(factsFiles) {
		return fmt.Errorf("%d --url for %d --package", len(urls), len(factsFiles))
	}
	var pkgs []sbom.Package
	var releases []map[string]sbom.OSReleaseFile
	for i, f := range factsFiles {
		facts, err := apkfile.ReadFacts(f)
		if err != nil {
			return err
		}
		url := ""
		if len(urls) > 0 {
			url = urls[i]
		}
		p, rel, err := sbom.FromFacts(facts, url)
		if err != nil {
			return err
		}
		pkgs, releases = append(pkgs, p), append(releases, rel)
	}
	var parts []*sbom.LayerPart
	for _, l := range layers {
		p, err := readLayerPart(l)
		if err != nil {
			return err
		}
		parts = append(parts, p)
	}
	return writeSBOM(sbom.Document(name, sbom.DistroFor(distro, releases), pkgs, parts...), out, cyclonedx)
}

// writeSBOM writes doc as SPDX to out and, when cyclonedx is set, as CycloneDX there: both
// or neither.
func writeSBOM(doc *spdx.Document, out, cyclonedx string) error {
	b, err := sbom.JSON(doc)
	if err != nil {
		return err
	}
	if cyclonedx == "" {
		return atomicfile.WriteFile(out, b)
	}
	c, err := sbom.CycloneDXJSON(doc)
	if err != nil {
		return err
	}
	var set atomicfile.Set
	defer set.Abort()
	if err := set.WriteFile(out, b); err != nil {
		return err
	}
	if err := set.WriteFile(cyclonedx, c); err != nil {
		return err
	}
	return set.Commit()
}

// readLayerPart reads --layer METADATA=PART.
func readLayerPart(v string) (*sbom.LayerPart, error) {
	metadata, part, ok := strings.Cut(v, "=")
	if !ok {
		return nil, fmt.Errorf("--layer %q: want METADATA=PART", v)
	}
	m, err := layer.ReadMetadata(metadata)
	if err != nil {
		return nil, err
	}
	return sbom.ReadLayerPart(part, m.Digest)
}
