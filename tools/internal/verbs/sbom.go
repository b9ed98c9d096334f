package verbs

import (
	"bytes"
	"fmt"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk"
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
	fs.StringVar(&distro, "distro", "alpine", "distribution in package URLs (pkg:apk/<distro>/...)")
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
	for i, f := range factsFiles {
		facts, err := readFacts(f)
		if err != nil {
			return err
		}
		c, err := apk.ParseSRI(facts.Control)
		if err != nil {
			return fmt.Errorf("package %s: %w", facts.PkgInfo.Name, err)
		}
		d, err := apk.ParseSRI(facts.Data)
		if err != nil {
			return fmt.Errorf("package %s: %w", facts.PkgInfo.Name, err)
		}
		p := sbom.Package{Info: facts.PkgInfo, ControlSHA1: c.Sum, DataSHA256: d.Sum}
		if len(urls) > 0 {
			p.URL = urls[i]
		}
		pkgs = append(pkgs, p)
	}
	doc := sbom.Document(name, distro, pkgs)
	if err := spdxlib.ValidateDocument(doc); err != nil {
		return fmt.Errorf("generated an invalid SPDX document: %w", err)
	}
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  ")); err != nil {
		return err
	}
	return atomicfile.WriteFile(out, buf.Bytes())
}
