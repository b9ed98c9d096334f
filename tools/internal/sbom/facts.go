package sbom

import (
	"bytes"
	"fmt"
	"slices"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// DefaultDistro names the distribution when no package installs an os-release with an ID.
const DefaultDistro = "alpine"

// FromFacts is a package as its facts (apk-extract) describe it, with url its lock's URL,
// and its entries at the os-release paths with their content (for DistroOf).
func FromFacts(f *apkfile.Facts, url string) (Package, map[string]OSReleaseFile, error) {
	releases := map[string]OSReleaseFile{}
	for _, e := range f.Files {
		if slices.Contains(apkfile.OSReleasePaths, e.Path) {
			releases[e.Path] = OSReleaseFile{Type: e.Type, Content: f.OSRelease[e.Path]}
		}
	}
	c, err := apkfile.ParseSRI(f.Control)
	if err != nil {
		return Package{}, nil, fmt.Errorf("package %s: %w", f.PkgInfo.Name, err)
	}
	d, err := apkfile.ParseSRI(f.Data)
	if err != nil {
		return Package{}, nil, fmt.Errorf("package %s: %w", f.PkgInfo.Name, err)
	}
	return Package{Info: f.PkgInfo, ControlSHA1: c.Sum, DataSHA256: d.Sum, URL: url}, releases, nil
}

// DistroFor is the distribution named id, or when id is empty the one the packages'
// os-release files give (DistroOf), else DefaultDistro.
func DistroFor(id string, releases []map[string]OSReleaseFile) Distro {
	if id != "" {
		return Distro{ID: id}
	}
	d, ok := DistroOf(releases)
	if !ok {
		d.ID = DefaultDistro
	}
	return d
}

// JSON validates a document and renders it as indented SPDX JSON.
func JSON(doc *spdx.Document) ([]byte, error) {
	if err := spdxlib.ValidateDocument(doc); err != nil {
		return nil, fmt.Errorf("generated an invalid SPDX document: %w", err)
	}
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  ")); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
