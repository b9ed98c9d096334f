//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdxlib"
)

// TestSBOMMatchesSyft checks the image's SPDX document with spdx/tools-golang and compares
// its package set with what syft v1.38.0 catalogs from the built image (it reads the apk
// database the image carries).
func TestSBOMMatchesSyft(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	syft := tool(t, "syft")
	run(t, root, nil, bazel, "build", "--output_groups=+sbom,+layout", imageTarget)

	doc := readSPDX(t, filepath.Join(root, "bazel-bin", "examples", "hello_image", "image.spdx.json"))
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Fatalf("SPDX validation: %v", err)
	}
	var ours []string
	for _, p := range doc.Packages {
		if strings.HasPrefix(purl(p), "pkg:apk/") { // not the image, its layers or Go modules
			ours = append(ours, p.PackageName+"@"+p.PackageVersion)
		}
	}
	sort.Strings(ours)

	out := run(t, root, []string{"SYFT_CHECK_FOR_APP_UPDATE=false"}, syft, "scan", "oci-dir:"+filepath.Join(root, layoutDir), "-o", "json", "-q")
	var catalog struct {
		Artifacts []struct{ Name, Version, Type, PURL string }
	}
	if err := json.Unmarshal([]byte(out), &catalog); err != nil {
		t.Fatalf("syft output: %v", err)
	}
	var theirs []string
	for _, a := range catalog.Artifacts {
		if a.Type == "apk" {
			theirs = append(theirs, a.Name+"@"+a.Version)
		}
	}
	sort.Strings(theirs)
	if len(ours) == 0 || strings.Join(ours, " ") != strings.Join(theirs, " ") {
		t.Fatalf("package sets differ:\n  rules_wharf SBOM: %v\n  syft:             %v", ours, theirs)
	}
	t.Logf("SBOM and syft agree on %d packages: %v", len(ours), ours)
}

// TestIndexSBOM checks the index's SPDX document with spdx/tools-golang: it describes the
// index (named by its digest), is VARIANT_OF one package per image of the index (named by
// the image digests the layout holds), and each image package CONTAINS the packages syft
// v1.38.0 catalogs from that platform's image.
func TestIndexSBOM(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	syft := tool(t, "syft")
	run(t, root, nil, bazel, "build", "--output_groups=+sbom,+layout", "//examples/hello_image:multiarch")
	dir := filepath.Join(root, "bazel-bin", "examples", "hello_image")

	doc := readSPDX(t, filepath.Join(dir, "multiarch.spdx.json"))
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Fatalf("SPDX validation: %v", err)
	}
	byID := map[string]*spdx.Package{}
	for _, p := range doc.Packages {
		byID[string(p.PackageSPDXIdentifier)] = p
	}
	described, variants, contains := "", map[string]string{}, map[string][]string{}
	for _, r := range doc.Relationships {
		a, b := string(r.RefA.ElementRefID), string(r.RefB.ElementRefID)
		switch r.Relationship {
		case "DESCRIBES":
			described = b
		case "VARIANT_OF":
			if a != described {
				t.Errorf("VARIANT_OF from %s, not the described package %s", a, described)
			}
			variants[byID[b].PackageName] = b
		case "CONTAINS":
			// APK packages, as name@version/arch, the arch from the package URL (not the
			// layers a rule wrote, nor their files).
			if p := byID[b]; p != nil && strings.HasPrefix(purl(p), "pkg:apk/") {
				_, q, _ := strings.Cut(purl(p), "arch=")
				arch, _, _ := strings.Cut(q, "&")
				contains[a] = append(contains[a], p.PackageName+"@"+p.PackageVersion+"/"+arch)
			}
		}
	}

	top, err := layout.ImageIndexFromPath(filepath.Join(dir, "multiarch"))
	if err != nil {
		t.Fatal(err)
	}
	tm, _ := top.IndexManifest()
	if described == "" || byID[described].PackageName != tm.Manifests[0].Digest.String() {
		t.Fatalf("the document describes %q, the layout holds index %s", described, tm.Manifests[0].Digest)
	}
	idx, _ := top.ImageIndex(tm.Manifests[0].Digest)
	im, _ := idx.IndexManifest()
	if len(variants) != len(im.Manifests) {
		t.Fatalf("%d image packages for %d images", len(variants), len(im.Manifests))
	}
	for _, m := range im.Manifests {
		id, ok := variants[m.Digest.String()]
		if !ok {
			t.Errorf("no package for the %s image %s", m.Platform, m.Digest)
			continue
		}
		img, _ := idx.Image(m.Digest)
		theirs := syftAPKs(t, root, syft, img)
		ours := contains[id]
		sort.Strings(ours)
		if len(ours) == 0 || strings.Join(ours, " ") != strings.Join(theirs, " ") {
			t.Errorf("%s: index SBOM has %v, syft finds %v", m.Platform, ours, theirs)
		}
		t.Logf("%s (%s): %v", m.Platform, m.Digest, ours)
	}
}

// syftAPKs: the APK packages syft finds in the image, as name@version/arch, sorted.
func syftAPKs(t *testing.T, root, syft string, img v1.Image) []string {
	t.Helper()
	single := filepath.Join(t.TempDir(), "single")
	p, err := layout.Write(single, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	out := run(t, root, []string{"SYFT_CHECK_FOR_APP_UPDATE=false"}, syft, "scan", "oci-dir:"+single, "-o", "json", "-q")
	var catalog struct {
		Artifacts []struct {
			Name, Version, Type string
			Metadata            struct{ Architecture string }
		}
	}
	if err := json.Unmarshal([]byte(out), &catalog); err != nil {
		t.Fatalf("syft output: %v", err)
	}
	var theirs []string
	for _, a := range catalog.Artifacts {
		if a.Type == "apk" {
			theirs = append(theirs, a.Name+"@"+a.Version+"/"+a.Metadata.Architecture)
		}
	}
	sort.Strings(theirs)
	return theirs
}

// purl is a package's package URL, or empty.
func purl(p *spdx.Package) string {
	for _, ref := range p.PackageExternalReferences {
		if ref.RefType == "purl" {
			return ref.Locator
		}
	}
	return ""
}

// TestSBOMGoModules builds examples/sbom's image, whose Go program links third-party
// modules, and the same main package with plain `go build` from the same go.mod: the
// modules the image's SPDX document says the program DEPENDS_ON (with versions and go.sum
// checksums) are exactly what `go version -m` reports for the `go build` binary and what
// syft v1.38.0 finds in it; the Go version is the one both report; the files are listed with
// their labels and the source file's sha256; the CycloneDX document says the same and
// decodes with cyclonedx-go.
func TestSBOMGoModules(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	syft := tool(t, "syft")
	run(t, root, nil, bazel, "build", "--output_groups=+sbom,+sbom_cyclonedx", "//examples/sbom:image", "//examples/sbom:multiarch")
	dir := filepath.Join(root, "bazel-bin", "examples", "sbom")

	doc := readSPDX(t, filepath.Join(dir, "image.spdx.json"))
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Fatalf("SPDX validation: %v", err)
	}
	ours, goVersion := spdxGoModules(t, doc, "/usr/bin/words")
	checkSPDXFiles(t, doc, map[string]string{
		"/usr/bin/words":               "built by //examples/sbom:words",
		"/usr/share/doc/words/main.go": "source file //examples/sbom:main.go " + strings.TrimPrefix(sha256File(t, filepath.Join(root, "examples", "sbom", "main.go")), "sha256:"),
	})

	bin := filepath.Join(t.TempDir(), "words")
	goTool := tool(t, "go")
	run(t, root, []string{"CGO_ENABLED=0", "GOFLAGS=-mod=readonly"}, goTool, "build", "-buildvcs=false", "-o", bin, "./examples/sbom")
	info := run(t, root, nil, goTool, "version", "-m", bin)
	deps, built := goVersionDeps(t, info)
	main := mainModule(t, doc, "/usr/bin/words")
	if !strings.Contains(info, "\tmod\t"+main+"\t(devel)") {
		t.Errorf("the SBOM names the main module %s, go version -m says\n%s", main, info)
	}
	if strings.Join(ours, " ") != strings.Join(deps, " ") || len(ours) < 3 {
		t.Fatalf("modules differ:\n  rules_wharf SBOM: %v\n  go version -m:    %v", ours, deps)
	}
	if goVersion != built {
		t.Errorf("the SBOM says %s, go build used %s", goVersion, built)
	}
	if theirs := syftGoModules(t, root, syft, bin, main); strings.Join(noSums(ours), " ") != strings.Join(theirs, " ") {
		t.Fatalf("modules differ:\n  rules_wharf SBOM: %v\n  syft:             %v", noSums(ours), theirs)
	}
	checkCycloneDXModules(t, filepath.Join(dir, "image.cdx.json"), noSums(ours))

	index := readSPDX(t, filepath.Join(dir, "multiarch.spdx.json"))
	if err := spdxlib.ValidateDocument(index); err != nil {
		t.Fatalf("index SPDX validation: %v", err)
	}
	if len(index.Files) != 2*len(doc.Files) {
		t.Errorf("the index document has %d files, want each platform's %d", len(index.Files), len(doc.Files))
	}
	// Each platform's modules, in the index's CycloneDX document.
	twice := append(append([]string{}, noSums(ours)...), noSums(ours)...)
	sort.Strings(twice)
	checkCycloneDXModules(t, filepath.Join(dir, "multiarch.cdx.json"), twice)
	t.Logf("SBOM, go version -m and syft agree on %s and %v", goVersion, ours)
}

// spdxGoModules are path@version sum of the modules the Go binary at path DEPENDS_ON, sorted,
// stdlib apart: its version is returned.
func spdxGoModules(t *testing.T, doc *spdx.Document, path string) ([]string, string) {
	t.Helper()
	byID := map[spdx.ElementID]*spdx.Package{}
	bin := spdx.ElementID("")
	for _, p := range doc.Packages {
		byID[p.PackageSPDXIdentifier] = p
		if p.PackageFileName == path {
			bin = p.PackageSPDXIdentifier
		}
	}
	var mods []string
	goVersion := ""
	for _, r := range doc.Relationships {
		if r.RefA.ElementRefID != bin || r.Relationship != "DEPENDS_ON" {
			continue
		}
		p := byID[r.RefB.ElementRefID]
		if p.PackageName == "stdlib" {
			goVersion = p.PackageVersion
			continue
		}
		mods = append(mods, p.PackageName+"@"+p.PackageVersion+" "+strings.TrimPrefix(p.PackageComment, "go.sum "))
	}
	if bin == "" || goVersion == "" {
		t.Fatalf("no Go binary %s linking stdlib in the document", path)
	}
	sort.Strings(mods)
	return mods, goVersion
}

// mainModule is the name of the package of the Go binary at path.
func mainModule(t *testing.T, doc *spdx.Document, path string) string {
	t.Helper()
	for _, p := range doc.Packages {
		if p.PackageFileName == path {
			return p.PackageName
		}
	}
	t.Fatalf("no Go binary %s in the document", path)
	return ""
}

// checkSPDXFiles checks the document lists each path with its comment (and sha256, when the
// want ends in one).
func checkSPDXFiles(t *testing.T, doc *spdx.Document, want map[string]string) {
	t.Helper()
	for _, f := range doc.Files {
		w, ok := want[f.FileName]
		if !ok {
			continue
		}
		delete(want, f.FileName)
		got := f.FileComment
		if strings.Count(w, " ") == 3 {
			got += " " + f.Checksums[1].Value
		}
		if got != w {
			t.Errorf("%s: %q, want %q", f.FileName, got, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("files not in the document: %v", want)
	}
}

// goVersionDeps parses `go version -m`: the dep lines as path@version sum, sorted, and the
// Go version.
func goVersionDeps(t *testing.T, out string) ([]string, string) {
	t.Helper()
	var deps []string
	version := ""
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if i == 0 && len(f) == 2 {
			version = f[1]
		}
		if len(f) == 4 && f[0] == "dep" {
			deps = append(deps, f[1]+"@"+f[2]+" "+f[3])
		}
	}
	sort.Strings(deps)
	return deps, version
}

// syftGoModules are the Go modules syft finds in a binary (not the main module, which it
// must find, or the standard library), as path@version, sorted.
func syftGoModules(t *testing.T, root, syft, bin, main string) []string {
	t.Helper()
	out := run(t, root, []string{"SYFT_CHECK_FOR_APP_UPDATE=false"}, syft, "scan", "file:"+bin, "-o", "json", "-q")
	var catalog struct {
		Artifacts []struct{ Name, Version, Type string }
	}
	if err := json.Unmarshal([]byte(out), &catalog); err != nil {
		t.Fatalf("syft output: %v", err)
	}
	var mods []string
	foundMain := false
	for _, a := range catalog.Artifacts {
		switch {
		case a.Type != "go-module" || a.Name == "stdlib":
		case a.Name == main:
			foundMain = true
		default:
			mods = append(mods, a.Name+"@"+a.Version)
		}
	}
	if !foundMain {
		t.Errorf("syft does not find the main module %s in %s", main, bin)
	}
	sort.Strings(mods)
	return mods
}

func noSums(mods []string) []string {
	out := make([]string, len(mods))
	for i, m := range mods {
		out[i], _, _ = strings.Cut(m, " ")
	}
	return out
}

// checkCycloneDXModules decodes the CycloneDX document with cyclonedx-go, checks its
// required fields, and that its Go library components other than stdlib are mods.
func checkCycloneDXModules(t *testing.T, path string, mods []string) {
	t.Helper()
	bom := &cdx.BOM{}
	if err := cdx.NewBOMDecoder(strings.NewReader(readFile(t, path)), cdx.BOMFileFormatJSON).Decode(bom); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion < cdx.SpecVersion1_5 || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") || bom.Metadata == nil || bom.Metadata.Component == nil || bom.Components == nil {
		t.Fatalf("%s: not a CycloneDX 1.5+ document with a serial number, metadata component and components", path)
	}
	var got []string
	for _, c := range *bom.Components {
		if c.Type == "" || c.Name == "" || c.BOMRef == "" {
			t.Errorf("%s: component without type, name or bom-ref: %+v", path, c)
		}
		if strings.HasPrefix(c.PackageURL, "pkg:golang/") && c.Type == cdx.ComponentTypeLibrary && c.Name != "stdlib" {
			got = append(got, c.Name+"@"+c.Version)
		}
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(mods, " ") {
		t.Errorf("CycloneDX modules %v, want %v", got, mods)
	}
}
