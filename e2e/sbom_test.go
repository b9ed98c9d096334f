//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"

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
		if p.PrimaryPackagePurpose == "CONTAINER" { // the image itself
			continue
		}
		ours = append(ours, p.PackageName+"@"+p.PackageVersion)
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
			// name@version/arch, the arch from the package URL.
			arch := ""
			for _, ref := range byID[b].PackageExternalReferences {
				if ref.RefType == "purl" {
					if _, q, ok := strings.Cut(ref.Locator, "arch="); ok {
						arch, _, _ = strings.Cut(q, "&")
					}
				}
			}
			contains[a] = append(contains[a], byID[b].PackageName+"@"+byID[b].PackageVersion+"/"+arch)
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
		ours := contains[id]
		sort.Strings(ours)
		if len(ours) == 0 || strings.Join(ours, " ") != strings.Join(theirs, " ") {
			t.Errorf("%s: index SBOM has %v, syft finds %v", m.Platform, ours, theirs)
		}
		t.Logf("%s (%s): %v", m.Platform, m.Digest, ours)
	}
}
