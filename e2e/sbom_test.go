//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
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

	f, err := os.Open(filepath.Join(root, "bazel-bin", "examples", "hello_image", "image.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := spdxjson.Read(f)
	if err != nil {
		t.Fatal(err)
	}
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
