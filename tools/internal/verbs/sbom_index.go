package verbs

import (
	"fmt"
	"os"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
	"github.com/rules-wharf/rules_wharf/tools/internal/sbom"
)

// sbomIndexVerb writes one SPDX document for an image index: the index, each platform's
// image (by digest, with its platform) and, from each image's own document, its packages.
func sbomIndexVerb(args []string) error {
	var images cli.Strings
	var name, purlName, indexDesc, out, cyclonedx string
	fs := newFlags("sbom-index")
	fs.StringVar(&name, "name", "", "document name (the index's label)")
	fs.StringVar(&purlName, "purl-name", "", "name in pkg:oci package URLs")
	fs.StringVar(&indexDesc, "index-descriptor", "", "the index's descriptor JSON")
	fs.Var(&images, "image", "DESCRIPTOR[=SPDX]: an image's manifest descriptor JSON and its SBOM, if it has one (repeatable)")
	fs.StringVar(&out, "out", "", "output: SPDX 2.3 JSON")
	fs.StringVar(&cyclonedx, "cyclonedx", "", "output: the same as CycloneDX 1.6 JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("name", name, "purl-name", purlName, "index-descriptor", indexDesc, "out", out); err != nil {
		return err
	}
	idx, err := oci.ReadDescriptor(indexDesc)
	if err != nil {
		return err
	}
	var list []sbom.IndexImage
	for _, im := range images {
		descPath, docPath, _ := strings.Cut(im, "=")
		entry, err := readIndexImage(descPath, docPath)
		if err != nil {
			return err
		}
		list = append(list, entry)
	}
	doc, err := sbom.IndexDocument(name, purlName, idx, list)
	if err != nil {
		return err
	}
	return writeSBOM(doc, out, cyclonedx)
}

// readIndexImage reads an image's descriptor and, when docPath is set, its SBOM.
func readIndexImage(descPath, docPath string) (sbom.IndexImage, error) {
	d, err := oci.ReadDescriptor(descPath)
	if err != nil {
		return sbom.IndexImage{}, err
	}
	entry := sbom.IndexImage{Descriptor: d}
	if docPath != "" {
		f, err := os.Open(docPath)
		if err != nil {
			return entry, err
		}
		entry.Doc, err = spdxjson.Read(f)
		f.Close()
		if err != nil {
			return entry, fmt.Errorf("%s: %w", docPath, err)
		}
	}
	return entry, nil
}
