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
	if index.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("index digest %q is not sha256", index.Digest)
	}
	const indexID = "SPDXRef-Index"
	doc.Packages = append(doc.Packages, containerPackage(purlName, indexID, index, url.Values{}, "OCI image index "+name))
	relate(doc, "DOCUMENT", indexID, "DESCRIBES")
	seen := map[common.ElementID]bool{}
	for _, im := range images {
		imageID, plat, err := addIndexImage(doc, purlName, im.Descriptor, seen)
		if err != nil {
			return nil, err
		}
		relate(doc, indexID, imageID, "VARIANT_OF")
		if im.Doc == nil {
			continue
		}
		if err := mergeImageDocument(doc, im.Doc, imageID, plat); err != nil {
			return nil, fmt.Errorf("the %s image's document %w", im.Descriptor.Platform, err)
		}
	}
	return doc, nil
}

// containerPackage is the package of an index or image: named by its digest d, with a
// pkg:oci purl of purlName qualified by q and d's media type.
func containerPackage(purlName string, id common.ElementID, d v1.Descriptor, q url.Values, description string) *spdx.Package {
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

// addIndexImage adds the package of one platform's image (one per platform: seen holds
// those added) and returns its ID and the platform as IDs spell it (os-arch[-variant]).
func addIndexImage(doc *spdx.Document, purlName string, d v1.Descriptor, seen map[common.ElementID]bool) (common.ElementID, string, error) {
	if d.Platform == nil {
		return "", "", fmt.Errorf("image %s has no platform", d.Digest)
	}
	if d.Digest.Algorithm != "sha256" {
		return "", "", fmt.Errorf("image digest %q is not sha256", d.Digest)
	}
	plat := d.Platform.OS + "-" + d.Platform.Architecture
	if d.Platform.Variant != "" {
		plat += "-" + d.Platform.Variant
	}
	imageID := spdxID("SPDXRef-Image-", plat)
	if seen[imageID] {
		return "", "", fmt.Errorf("two images for platform %s", d.Platform)
	}
	seen[imageID] = true
	q := url.Values{}
	q.Set("os", d.Platform.OS)
	q.Set("arch", d.Platform.Architecture)
	if d.Platform.Variant != "" {
		q.Set("variant", d.Platform.Variant)
	}
	doc.Packages = append(doc.Packages, containerPackage(purlName, imageID, d, q, "OCI image for "+d.Platform.String()))
	return imageID, plat, nil
}

// mergeImageDocument adds an image's own document to doc: its root (what it DESCRIBES)
// becomes the image package imageID; every other package is renamed into the platform's
// ID space (plat).
func mergeImageDocument(doc, image *spdx.Document, imageID common.ElementID, plat string) error {
	roots := map[common.ElementID]bool{}
	for _, r := range image.Relationships {
		if r.Relationship == "DESCRIBES" && r.RefA.ElementRefID == "DOCUMENT" {
			roots[r.RefB.ElementRefID] = true
		}
	}
	if len(roots) != 1 {
		return fmt.Errorf("describes %d packages, want 1", len(roots))
	}
	rename := func(id common.ElementID) common.ElementID {
		if roots[id] {
			return imageID
		}
		return spdxID("SPDXRef-"+plat+"-", strings.TrimPrefix(string(id), "SPDXRef-"))
	}
	for _, p := range image.Packages {
		if roots[p.PackageSPDXIdentifier] {
			continue
		}
		cp := *p
		cp.PackageSPDXIdentifier = rename(p.PackageSPDXIdentifier)
		doc.Packages = append(doc.Packages, &cp)
	}
	for _, f := range image.Files {
		cp := *f
		cp.FileSPDXIdentifier = rename(f.FileSPDXIdentifier)
		doc.Files = append(doc.Files, &cp)
	}
	for _, r := range image.Relationships {
		if r.RefA.ElementRefID == "DOCUMENT" {
			continue
		}
		if r.RefA.DocumentRefID != "" || r.RefB.DocumentRefID != "" || r.RefB.SpecialID != "" {
			return fmt.Errorf("has a relationship to another document or a special element")
		}
		relate(doc, rename(r.RefA.ElementRefID), rename(r.RefB.ElementRefID), r.Relationship)
	}
	return nil
}
