package sbom

import (
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
)

// IndexImage is one platform's image of an index.
type IndexImage struct {
	// Descriptor is the image manifest's descriptor, with its platform.
	Descriptor v1.Descriptor
	// Doc is the image's own document (Document), or nil when it has no packages.
	Doc *spdx.Document
}

// ociPURL is a package URL of type oci for a manifest or index: the digest is the version,
// so the URL names the content wherever it is copied.
func ociPURL(name string, d v1.Hash, q url.Values) string {
	s := fmt.Sprintf("pkg:oci/%s@%s", url.PathEscape(strings.ToLower(name)), d.Algorithm+"%3A"+d.Hex)
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// IndexDocument describes an image index (name, e.g. its Bazel label; purlName, the name in
// pkg:oci URLs) in one document, laid out as the SPDX multi-arch example and apko do: the
// index is the described package (named by its digest), each platform's image is a package
// named by its digest with os/arch in its purl, and the index is VARIANT_OF each image.
// Beyond that, each image package CONTAINS that platform's packages, taken from its own
// document, so the one document lists everything in every platform.
func IndexDocument(name, purlName string, index v1.Descriptor, images []IndexImage) (*spdx.Document, error) {
	h := sha256.New()
	fmt.Fprintln(h, name, index.Digest)
	doc := newDocument(name, h)
	container := func(id common.ElementID, d v1.Descriptor, q url.Values, description string) *spdx.Package {
		if d.MediaType != "" {
			q.Set("mediaType", string(d.MediaType))
		}
		return &spdx.Package{
			PackageName:             d.Digest.String(),
			PackageSPDXIdentifier:   id,
			PackageVersion:          d.Digest.String(),
			PackageDownloadLocation: "NOASSERTION",
			PrimaryPackagePurpose:   "CONTAINER",
			PackageLicenseConcluded: "NOASSERTION",
			PackageLicenseDeclared:  "NOASSERTION",
			PackageCopyrightText:    "NOASSERTION",
			PackageDescription:      description,
			PackageChecksums:        []common.Checksum{{Algorithm: common.SHA256, Value: d.Digest.Hex}},
			PackageExternalReferences: []*spdx.PackageExternalReference{
				{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: ociPURL(purlName, d.Digest, q)},
			},
		}
	}
	if index.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("index digest %q is not sha256", index.Digest)
	}
	const indexID = "SPDXRef-Index"
	doc.Packages = append(doc.Packages, container(indexID, index, url.Values{}, "OCI image index "+name))
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", indexID), Relationship: "DESCRIBES",
	})
	seen := map[common.ElementID]bool{}
	for _, im := range images {
		d := im.Descriptor
		if d.Platform == nil {
			return nil, fmt.Errorf("image %s has no platform", d.Digest)
		}
		if d.Digest.Algorithm != "sha256" {
			return nil, fmt.Errorf("image digest %q is not sha256", d.Digest)
		}
		plat := d.Platform.OS + "-" + d.Platform.Architecture
		if d.Platform.Variant != "" {
			plat += "-" + d.Platform.Variant
		}
		imageID := spdxID("SPDXRef-Image-", plat)
		if seen[imageID] {
			return nil, fmt.Errorf("two images for platform %s", d.Platform)
		}
		seen[imageID] = true
		q := url.Values{}
		q.Set("os", d.Platform.OS)
		q.Set("arch", d.Platform.Architecture)
		if d.Platform.Variant != "" {
			q.Set("variant", d.Platform.Variant)
		}
		doc.Packages = append(doc.Packages, container(imageID, d, q, "OCI image for "+d.Platform.String()))
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", indexID), RefB: common.MakeDocElementID("", string(imageID)), Relationship: "VARIANT_OF",
		})
		if im.Doc == nil {
			continue
		}
		// The image document's own root (what it DESCRIBES) becomes the image package; every
		// other package is renamed into this platform's ID space.
		roots := map[common.ElementID]bool{}
		for _, r := range im.Doc.Relationships {
			if r.Relationship == "DESCRIBES" && r.RefA.ElementRefID == "DOCUMENT" {
				roots[r.RefB.ElementRefID] = true
			}
		}
		if len(roots) != 1 {
			return nil, fmt.Errorf("the %s image's document describes %d packages, want 1", d.Platform, len(roots))
		}
		rename := func(id common.ElementID) common.ElementID {
			if roots[id] {
				return imageID
			}
			return spdxID("SPDXRef-"+plat+"-", strings.TrimPrefix(string(id), "SPDXRef-"))
		}
		for _, p := range im.Doc.Packages {
			if roots[p.PackageSPDXIdentifier] {
				continue
			}
			cp := *p
			cp.PackageSPDXIdentifier = rename(p.PackageSPDXIdentifier)
			doc.Packages = append(doc.Packages, &cp)
		}
		for _, r := range im.Doc.Relationships {
			if r.RefA.ElementRefID == "DOCUMENT" {
				continue
			}
			if r.RefA.DocumentRefID != "" || r.RefB.DocumentRefID != "" || r.RefB.SpecialID != "" {
				return nil, fmt.Errorf("the %s image's document has a relationship to another document or a special element", d.Platform)
			}
			doc.Relationships = append(doc.Relationships, &spdx.Relationship{
				RefA:         common.MakeDocElementID("", string(rename(r.RefA.ElementRefID))),
				RefB:         common.MakeDocElementID("", string(rename(r.RefB.ElementRefID))),
				Relationship: r.Relationship,
			})
		}
	}
	return doc, nil
}
