// Package sbom writes SPDX 2.3 documents for images built from APK packages, from the
// package facts the build already has (no image bytes are read).
package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/url"
	"sort"
	"strings"

	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// Package is one installed APK.
type Package struct {
	Info        *apkfile.PkgInfo
	ControlSHA1 []byte
	DataSHA256  []byte
	URL         string
}

// Created is the fixed creation time: the document must not depend on when it was built.
const Created = "1970-01-01T00:00:00Z"

// PURL is the package URL syft and apko use for APKs.
func PURL(distro Distro, p *apkfile.PkgInfo) string {
	q := url.Values{}
	if p.Arch != "" {
		q.Set("arch", p.Arch)
	}
	if distro.Release != "" {
		q.Set("distro", distro.Release)
	}
	if p.Origin != "" && p.Origin != p.Name {
		q.Set("origin", p.Origin)
	}
	s := fmt.Sprintf("pkg:apk/%s/%s@%s", url.PathEscape(distro.ID), url.PathEscape(p.Name), url.PathEscape(p.Version))
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func spdxID(prefix, s string) common.ElementID {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return common.ElementID(prefix + b.String())
}

// newDocument starts a document: its namespace must be unique per document and stable per
// content, so it ends in a prefix of h, a hash of what the document describes.
func newDocument(name string, h hash.Hash) *spdx.Document {
	return &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: "https://rules-wharf.dev/spdx/" + url.PathEscape(name) + "-" + hex.EncodeToString(h.Sum(nil))[:32],
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{Creator: "rules_wharf", CreatorType: "Tool"}},
			Created:  Created,
		},
	}
}

// Document describes an image (name, e.g. its Bazel label) holding pkgs and the layers a
// Bazel rule wrote (their files, Go binaries and modules).
func Document(name string, distro Distro, pkgs []Package, layers ...*LayerPart) *spdx.Document {
	// The namespace must be unique per document and stable per content.
	h := sha256.New()
	fmt.Fprintln(h, name, distro.ID, distro.Release)
	for _, p := range pkgs {
		fmt.Fprintln(h, p.Info.Name, p.Info.Version, p.Info.Arch, hex.EncodeToString(p.DataSHA256))
	}
	hashLayers(h, layers)
	doc := newDocument(name, h)
	doc.Packages = append(doc.Packages, &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   "SPDXRef-Image",
		PackageDownloadLocation: "NOASSERTION",
		PrimaryPackagePurpose:   "CONTAINER",
		PackageLicenseConcluded: "NOASSERTION",
		PackageLicenseDeclared:  "NOASSERTION",
		PackageCopyrightText:    "NOASSERTION",
	})
	relate(doc, "DOCUMENT", "SPDXRef-Image", "DESCRIBES")
	ids := packageIDs(pkgs)
	for _, p := range pkgs {
		id := ids[p.Info.Name]
		doc.Packages = append(doc.Packages, apkPackage(distro, p, id))
		relate(doc, "SPDXRef-Image", id, "CONTAINS")
		for _, dep := range dependencies(p, id, ids) {
			relate(doc, id, dep, "DEPENDS_ON")
		}
	}
	addLayers(doc, layers)
	return doc
}

// relate adds the relationship "a how b" between elements of doc.
func relate(doc *spdx.Document, a, b common.ElementID, how string) {
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: how,
	})
}

// packageIDs are the packages' SPDX IDs by name and by the names they provide (the first
// package to provide a name keeps it).
func packageIDs(pkgs []Package) map[string]common.ElementID {
	ids := map[string]common.ElementID{}
	for _, p := range pkgs {
		id := spdxID("SPDXRef-Package-", p.Info.Name+"-"+p.Info.Version)
		ids[p.Info.Name] = id
		for _, prov := range p.Info.Provides {
			if _, taken := ids[apkfile.DependencyName(prov)]; !taken {
				ids[apkfile.DependencyName(prov)] = id
			}
		}
	}
	return ids
}

// apkPackage is the SPDX package of an APK.
func apkPackage(distro Distro, p Package, id common.ElementID) *spdx.Package {
	lic := p.Info.License
	if lic == "" {
		lic = "NOASSERTION"
	}
	download := p.URL
	if !strings.Contains(download, "://") {
		download = "NOASSERTION"
	}
	source := ""
	if p.Info.Origin != "" {
		source = "origin: " + p.Info.Origin
	}
	return &spdx.Package{
		PackageName:             p.Info.Name,
		PackageSPDXIdentifier:   id,
		PackageVersion:          p.Info.Version,
		PackageDownloadLocation: download,
		PackageSupplier:         &common.Supplier{Supplier: "NOASSERTION"},
		PackageHomePage:         p.Info.URL,
		PackageLicenseConcluded: "NOASSERTION",
		PackageLicenseDeclared:  lic,
		PackageCopyrightText:    "NOASSERTION",
		PackageDescription:      p.Info.Description,
		PackageSourceInfo:       source,
		PackageChecksums: []common.Checksum{
			{Algorithm: common.SHA1, Value: hex.EncodeToString(p.ControlSHA1)},
			{Algorithm: common.SHA256, Value: hex.EncodeToString(p.DataSHA256)},
		},
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: PURL(distro, p.Info)},
		},
	}
}

// dependencies are the IDs of the image's packages that p (whose ID is id) depends on,
// sorted; conflicts (!name) and dependencies no package provides are left out.
func dependencies(p Package, id common.ElementID, ids map[string]common.ElementID) []common.ElementID {
	deps := map[common.ElementID]bool{}
	for _, d := range p.Info.Depends {
		if strings.HasPrefix(d, "!") {
			continue // a conflict, not a dependency
		}
		if dep, ok := ids[apkfile.DependencyName(d)]; ok && dep != id {
			deps[dep] = true
		}
	}
	sorted := make([]common.ElementID, 0, len(deps))
	for d := range deps {
		sorted = append(sorted, d)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return sorted
}
