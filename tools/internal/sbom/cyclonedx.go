package sbom

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
)

// CycloneDXVersion is the spec version CycloneDX documents are written in.
const CycloneDXVersion = cdx.SpecVersion1_6

// CycloneDX is doc as a CycloneDX BOM: the package doc DESCRIBES is the metadata's
// component, what a package CONTAINS is nested in it (an image's layers, a layer's files
// and Go programs), DEPENDS_ON relationships are the dependency graph.
func CycloneDX(doc *spdx.Document) (*cdx.BOM, error) {
	c := &converter{comps: map[common.ElementID]cdx.Component{}, parent: map[common.ElementID]common.ElementID{}}
	root, err := c.read(doc)
	if err != nil {
		return nil, err
	}
	bom := cdx.NewBOM()
	bom.SpecVersion = CycloneDXVersion
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	sum := sha256.Sum256([]byte(doc.DocumentNamespace))
	sum[6], sum[8] = sum[6]&0x0f|0x50, sum[8]&0x3f|0x80 // a name-based (version 5) UUID
	bom.SerialNumber = fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	top := c.comps[root]
	top.Type = cdx.ComponentTypeContainer
	bom.Metadata = &cdx.Metadata{
		Timestamp: Created,
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "rules_wharf"}}},
		Component: &top,
	}
	var comps []cdx.Component
	for _, id := range c.order {
		if id != root && (c.parent[id] == "" || c.parent[id] == root) {
			comps = append(comps, c.nest(id))
		}
	}
	bom.Components = &comps
	bom.Dependencies = &c.deps
	return bom, nil
}

type converter struct {
	comps    map[common.ElementID]cdx.Component
	order    []common.ElementID
	parent   map[common.ElementID]common.ElementID
	children map[common.ElementID][]common.ElementID
	deps     []cdx.Dependency
}

// read takes doc's elements and relationships; it returns the described element.
func (c *converter) read(doc *spdx.Document) (common.ElementID, error) {
	for _, p := range doc.Packages {
		c.add(p.PackageSPDXIdentifier, packageComponent(p))
	}
	for _, f := range doc.Files {
		c.add(f.FileSPDXIdentifier, cdx.Component{Type: cdx.ComponentTypeFile, Name: f.FileName, Hashes: hashes(f.Checksums), Description: f.FileComment})
	}
	var root common.ElementID
	c.children = map[common.ElementID][]common.ElementID{}
	depIndex := map[common.ElementID]int{}
	for _, r := range doc.Relationships {
		a, b := r.RefA.ElementRefID, r.RefB.ElementRefID
		switch {
		case a == "DOCUMENT" && r.Relationship == "DESCRIBES":
			root = b
		case r.Relationship == "CONTAINS" && c.parent[b] == "":
			c.parent[b] = a
			c.children[a] = append(c.children[a], b)
		case r.Relationship == "DEPENDS_ON":
			i, ok := depIndex[a]
			if !ok {
				i, depIndex[a] = len(c.deps), len(c.deps)
				c.deps = append(c.deps, cdx.Dependency{Ref: string(a), Dependencies: &[]string{}})
			}
			*c.deps[i].Dependencies = append(*c.deps[i].Dependencies, string(b))
		}
	}
	if _, ok := c.comps[root]; !ok {
		return "", fmt.Errorf("SPDX document %s describes no package of its own", doc.DocumentName)
	}
	return root, nil
}

func (c *converter) add(id common.ElementID, comp cdx.Component) {
	comp.BOMRef = string(id)
	c.comps[id] = comp
	c.order = append(c.order, id)
}

// nest is the component id with what it contains nested in it.
func (c *converter) nest(id common.ElementID) cdx.Component {
	comp := c.comps[id]
	if kids := c.children[id]; len(kids) > 0 {
		nested := make([]cdx.Component, 0, len(kids))
		for _, k := range kids {
			nested = append(nested, c.nest(k))
		}
		comp.Components = &nested
	}
	return comp
}

var componentTypes = map[string]cdx.ComponentType{
	"APPLICATION": cdx.ComponentTypeApplication,
	"CONTAINER":   cdx.ComponentTypeContainer,
	"ARCHIVE":     cdx.ComponentTypeFile,
}

func packageComponent(p *spdx.Package) cdx.Component {
	comp := cdx.Component{
		Type:        cdx.ComponentTypeLibrary,
		Name:        p.PackageName,
		Version:     p.PackageVersion,
		Description: p.PackageDescription,
		Hashes:      hashes(p.PackageChecksums),
	}
	if t, ok := componentTypes[p.PrimaryPackagePurpose]; ok {
		comp.Type = t
	}
	for _, r := range p.PackageExternalReferences {
		if r.RefType == "purl" {
			comp.PackageURL = r.Locator
		}
	}
	if l := p.PackageLicenseDeclared; l != "" && l != "NOASSERTION" {
		comp.Licenses = &cdx.Licenses{{Expression: l}}
	}
	var props []cdx.Property
	for name, v := range map[string]string{"rules_wharf:source": p.PackageSourceInfo, "rules_wharf:file": p.PackageFileName, "rules_wharf:comment": p.PackageComment} {
		if v != "" {
			props = append(props, cdx.Property{Name: name, Value: v})
		}
	}
	if len(props) > 0 {
		slices.SortFunc(props, func(a, b cdx.Property) int { return strings.Compare(a.Name, b.Name) })
		comp.Properties = &props
	}
	return comp
}

var hashAlgorithms = map[common.ChecksumAlgorithm]cdx.HashAlgorithm{common.SHA1: cdx.HashAlgoSHA1, common.SHA256: cdx.HashAlgoSHA256}

func hashes(sums []common.Checksum) *[]cdx.Hash {
	var out []cdx.Hash
	for _, s := range sums {
		if alg, ok := hashAlgorithms[s.Algorithm]; ok {
			out = append(out, cdx.Hash{Algorithm: alg, Value: s.Value})
		}
	}
	if out == nil {
		return nil
	}
	return &out
}

// CycloneDXJSON renders doc as indented CycloneDX JSON.
func CycloneDXJSON(doc *spdx.Document) ([]byte, error) {
	bom, err := CycloneDX(doc)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).EncodeVersion(bom, CycloneDXVersion); err != nil {
		return nil, fmt.Errorf("writing CycloneDX for %s: %w", doc.DocumentName, err)
	}
	return buf.Bytes(), nil
}
