package verbs

import (
	"fmt"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/sbom"
)

func sbomVerb(args []string) error {
	var factsFiles, urls cli.Strings
	var name, distro, out string
	fs := newFlags("sbom")
	fs.Var(&factsFiles, "package", "package facts JSON from apk-extract (repeatable)")
	fs.Var(&urls, "url", "the lock's URL of each --package, in the same order (repeatable)")
	fs.StringVar(&name, "name", "", "document name (the image's label)")
	fs.StringVar(&distro, "distro", "", "distribution in package URLs (pkg:apk/<distro>/...); default: the ID of the os-release the packages install, else "+sbom.DefaultDistro)
	fs.StringVar(&out, "out", "", "output: SPDX 2.3 JSON")
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
	b, err := sbom.JSON(sbom.Document(name, sbom.DistroFor(distro, releases), pkgs))
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(out, b)
}
