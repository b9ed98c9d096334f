package sbom

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/url"
	"strconv"
	"strings"

	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
)

// hashLayers adds what the layers describe to h, the hash that names the document.
func hashLayers(h hash.Hash, layers []*LayerPart) {
	for _, l := range layers {
		fmt.Fprintln(h, "layer", l.Label, l.Digest)
		for _, f := range l.Files {
			fmt.Fprintln(h, f.Path, f.Label, f.SHA256)
		}
		for _, b := range l.GoBinaries {
			fmt.Fprintln(h, b.Path, b.GoVersion, b.MainPackage, b.MainModule)
			for _, m := range b.Modules {
				fmt.Fprintln(h, m.Path, m.Version, m.ReplacePath, m.ReplaceVersion, m.Sum)
			}
		}
	}
}

// addLayers adds each layer (CONTAINED by the image), the files it holds, its Go binaries
// and the modules they link (DEPENDS_ON; one package per module version in the document).
func addLayers(doc *spdx.Document, layers []*LayerPart) {
	seen := map[common.ElementID]bool{}
	for i, l := range layers {
		n := strconv.Itoa(i)
		layerID := spdxID("SPDXRef-Layer-"+n+"-", l.Label)
		doc.Packages = append(doc.Packages, layerPackage(l, layerID))
		relate(doc, "SPDXRef-Image", layerID, "CONTAINS")
		for _, f := range l.Files {
			id := spdxID("SPDXRef-File-"+n+"-", f.Path)
			doc.Files = append(doc.Files, spdxFile(f, id))
			relate(doc, layerID, id, "CONTAINS")
		}
		for _, b := range l.GoBinaries {
			binID := spdxID("SPDXRef-GoBinary-"+n+"-", b.Path)
			doc.Packages = append(doc.Packages, goBinaryPackage(b, binID))
			relate(doc, layerID, binID, "CONTAINS")
			for _, m := range append([]GoModule{stdlib(b.GoVersion)}, b.Modules...) {
				id := spdxID("SPDXRef-GoModule-", m.Path+"-"+m.Version)
				if !seen[id] {
					seen[id] = true
					doc.Packages = append(doc.Packages, goModulePackage(m, id))
				}
				relate(doc, binID, id, "DEPENDS_ON")
			}
		}
	}
}

func layerPackage(l *LayerPart, id common.ElementID) *spdx.Package {
	p := noAssertion(l.Label, id, "ARCHIVE")
	p.PackageVersion = l.Digest
	p.PackageDescription = "image layer written by " + l.Label
	if hexDigest, ok := strings.CutPrefix(l.Digest, "sha256:"); ok {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hexDigest}}
	}
	return p
}

func spdxFile(f File, id common.ElementID) *spdx.File {
	how := "built by " + f.Label
	if f.Source {
		how = "source file " + f.Label
	}
	return &spdx.File{
		FileName:           f.Path,
		FileSPDXIdentifier: id,
		Checksums: []common.Checksum{
			{Algorithm: common.SHA1, Value: f.SHA1},
			{Algorithm: common.SHA256, Value: f.SHA256},
		},
		LicenseConcluded:  "NOASSERTION",
		FileCopyrightText: "NOASSERTION",
		FileComment:       how,
	}
}

// goBinaryPackage is the binary's main module, as syft lists a Go program: version (devel).
func goBinaryPackage(b GoBinary, id common.ElementID) *spdx.Package {
	name := b.MainModule
	if name == "" {
		name = b.MainPackage
	}
	p := noAssertion(name, id, "APPLICATION")
	p.PackageVersion = "(devel)"
	p.PackageFileName = b.Path
	p.PackageSourceInfo = "built by " + b.Label + " with " + b.GoVersion + " from package " + b.MainPackage
	p.PackageExternalReferences = []*spdx.PackageExternalReference{golangPURL(name, "(devel)")}
	return p
}

// stdlib is the Go standard library a binary links, named as syft and grype name it.
func stdlib(goVersion string) GoModule {
	return GoModule{Path: "stdlib", Version: goVersion}
}

func goModulePackage(m GoModule, id common.ElementID) *spdx.Package {
	p := noAssertion(m.Path, id, "LIBRARY")
	p.PackageVersion = m.Version
	version := m.Version
	if m.Path == "stdlib" {
		version = strings.TrimPrefix(version, "go")
	}
	p.PackageExternalReferences = []*spdx.PackageExternalReference{golangPURL(m.Path, version)}
	if m.ReplacePath != "" {
		p.PackageSourceInfo = "replaced by " + strings.TrimSpace(m.ReplacePath+" "+m.ReplaceVersion)
	}
	if sum, ok := strings.CutPrefix(m.Sum, "h1:"); ok {
		// go.sum's h1: is base64 of a SHA-256 (of the module's file list); syft lists it so.
		if b, err := base64.StdEncoding.DecodeString(sum); err == nil {
			p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hex.EncodeToString(b)}}
		}
		p.PackageComment = "go.sum " + m.Sum
	}
	return p
}

func golangPURL(path, version string) *spdx.PackageExternalReference {
	return &spdx.PackageExternalReference{
		Category: "PACKAGE-MANAGER", RefType: "purl",
		Locator: "pkg:golang/" + path + "@" + url.PathEscape(version),
	}
}

// noAssertion is a package with name, id and purpose, asserting nothing else.
func noAssertion(name string, id common.ElementID, purpose string) *spdx.Package {
	return &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   id,
		PackageDownloadLocation: "NOASSERTION",
		PrimaryPackagePurpose:   purpose,
		PackageLicenseConcluded: "NOASSERTION",
		PackageLicenseDeclared:  "NOASSERTION",
		PackageCopyrightText:    "NOASSERTION",
	}
}
