package verbs

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/sbom"
)

// defaultDistro names the distribution when no package installs an os-release with an ID.
const defaultDistro = "alpine"

// osReleaseFiles is the package's entries at the os-release paths, with their content.
func (f *Facts) osReleaseFiles() map[string]sbom.OSReleaseFile {
	m := map[string]sbom.OSReleaseFile{}
	for _, e := range f.Files {
		if slices.Contains(apk.OSReleasePaths, e.Path) {
			m[e.Path] = sbom.OSReleaseFile{Type: e.Type, Content: f.OSRelease[e.Path]}
		}
	}
	return m
}

func sbomVerb(args []string) error {
	var factsFiles, urls cli.Strings
	var name, distro, out string
	fs := newFlags("sbom")
	fs.Var(&factsFiles, "package", "package facts JSON from apk-extract (repeatable)")
	fs.Var(&urls, "url", "the lock's URL of each --package, in the same order (repeatable)")
	fs.StringVar(&name, "name", "", "document name (the image's label)")
	fs.StringVar(&distro, "distro", "", "distribution in package URLs (pkg:apk/<distro>/...); default: the ID of the os-release the packages install, else "+defaultDistro)
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
		facts, err := readFacts(f)
		if err != nil {
			return err
		}
		releases = append(releases, facts.osReleaseFiles())
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
	d := sbom.Distro{ID: distro}
	if distro == "" {
		var ok bool
		if d, ok = sbom.DistroOf(releases); !ok {
			d.ID = defaultDistro
		}
	}
	doc := sbom.Document(name, d, pkgs)
	if err := spdxlib.ValidateDocument(doc); err != nil {
		return fmt.Errorf("generated an invalid SPDX document: %w", err)
	}
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  ")); err != nil {
		return err
	}
	return atomicfile.WriteFile(out, buf.Bytes())
}

// sbomIndexVerb writes one SPDX document for an image index: the index, each platform's
// image (by digest, with its platform) and, from each image's own document, its packages.
func sbomIndexVerb(args []string) error {
	var images cli.Strings
	var name, purlName, indexDesc, out string
	fs := newFlags("sbom-index")
	fs.StringVar(&name, "name", "", "document name (the index's label)")
	fs.StringVar(&purlName, "purl-name", "", "name in pkg:oci package URLs")
	fs.StringVar(&indexDesc, "index-descriptor", "", "the index's descriptor JSON")
	fs.Var(&images, "image", "DESCRIPTOR[=SPDX]: an image's manifest descriptor JSON and its SBOM, if it has one (repeatable)")
	fs.StringVar(&out, "out", "", "output: SPDX 2.3 JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("name", name, "purl-name", purlName, "index-descriptor", indexDesc, "out", out); err != nil {
		return err
	}
	idx, err := readDescriptor(indexDesc)
	if err != nil {
		return err
	}
	var list []sbom.IndexImage
	for _, im := range images {
		descPath, docPath, _ := strings.Cut(im, "=")
		d, err := readDescriptor(descPath)
		if err != nil {
			return err
		}
		entry := sbom.IndexImage{Descriptor: d}
		if docPath != "" {
			f, err := os.Open(docPath)
			if err != nil {
				return err
			}
			entry.Doc, err = spdxjson.Read(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", docPath, err)
			}
		}
		list = append(list, entry)
	}
	doc, err := sbom.IndexDocument(name, purlName, idx, list)
	if err != nil {
		return err
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		return fmt.Errorf("generated an invalid SPDX document: %w", err)
	}
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  ")); err != nil {
		return err
	}
	return atomicfile.WriteFile(out, buf.Bytes())
}
