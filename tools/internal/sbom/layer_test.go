package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/spdx/tools-golang/spdx"
)

// testLayerInput is a layer holding a file, a directory and, as its Go binary, this test
// program (a Go binary with build info), linking a package of example.com/a.
func testLayerInput(t *testing.T) LayerInput {
	t.Helper()
	dir := writeFiles(t, map[string]string{
		"hello.txt": "hello\n", "tree/b.txt": "b\n", "tree/sub/a.txt": "a\n",
		"go.mod": testGoMod, "go.sum": testGoSum,
	})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := ReadGoMod(filepath.Join(dir, "go.mod"), filepath.Join(dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	return LayerInput{
		Label: "//app:layer",
		Files: []InputFile{
			{Dest: "/etc/hello.txt", Path: filepath.Join(dir, "hello.txt"), Label: "//app:hello.txt", Source: true},
			{Dest: "/srv/tree", Path: filepath.Join(dir, "tree"), Label: "//app:tree"},
		},
		GoBinaries: []InputFile{{Dest: "/usr/bin/app", Path: exe, Label: "//app:bin"}},
		GoPackages: map[string]map[string]string{"/usr/bin/app": {"example.com/app": "//app:lib", "example.com/a/x": "@a//x"}},
		GoMain:     map[string]string{"/usr/bin/app": "example.com/app"},
		GoMod:      mod,
	}
}

func TestBuildLayerPart(t *testing.T) {
	p, err := BuildLayerPart(testLayerInput(t))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range p.Files {
		paths = append(paths, f.Path+" "+f.Label)
	}
	if got := strings.Join(paths, ","); got != "/etc/hello.txt //app:hello.txt,/srv/tree/b.txt //app:tree,/srv/tree/sub/a.txt //app:tree" {
		t.Errorf("files: %s", got)
	}
	if f := p.Files[0]; !f.Source || f.SHA256 != "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" || f.SHA1 != "f572d396fae9206628714fb2ce00f72e94f2258f" {
		t.Errorf("hello.txt: %+v", f)
	}
	b := p.GoBinaries[0]
	if b.GoVersion != runtime.Version() || b.MainModule != "example.com/app" || len(b.Modules) != 1 || b.Modules[0].Path != "example.com/a" || b.Modules[0].Sum != "h1:AAAA" {
		t.Errorf("binary: %+v", b)
	}
}

func TestBuildLayerPartErrors(t *testing.T) {
	noMod := testLayerInput(t)
	noMod.GoMod = nil
	notGo := testLayerInput(t)
	notGo.GoBinaries[0].Path = notGo.Files[0].Path
	missing := testLayerInput(t)
	missing.Files[0].Path += ".gone"
	for name, c := range map[string]struct {
		in   LayerInput
		want string
	}{
		"no go.mod": {noMod, "go_binary /usr/bin/app (//app:bin) in layer //app:layer: links example.com/a/x (@a//x), whose module only a go.mod names: set the layer's go_mod (and go_sum)"},
		"not Go":    {notGo, "go_binary /usr/bin/app (//app:bin) in layer //app:layer: reading its Go build info: "},
		"missing":   {missing, "hello.txt.gone (//app:hello.txt): "},
	} {
		_, err := BuildLayerPart(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error with %q, got %v", name, c.want, err)
		}
	}
	// Without go.mod, a binary of the main repository's packages only is still listed.
	mainOnly := testLayerInput(t)
	mainOnly.GoMod = nil
	delete(mainOnly.GoPackages["/usr/bin/app"], "example.com/a/x")
	p, err := BuildLayerPart(mainOnly)
	if err != nil || p.GoBinaries[0].MainPackage != "example.com/app" || p.GoBinaries[0].Modules != nil {
		t.Fatalf("%+v %v", p, err)
	}
}

// layerDocument is an image document with APK packages and a layer part, the part written
// and read back as the image's sbom action reads it.
func layerDocument(t *testing.T) *spdx.Document {
	t.Helper()
	p, err := BuildLayerPart(testLayerInput(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "part.json")
	if err := WriteLayerPart(path, p); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLayerPart(path, "sha256:"+strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	return Document("//app:image", Distro{ID: "alpine"}, testPackages(), back)
}

func TestDocumentWithLayers(t *testing.T) {
	doc := layerDocument(t)
	buf, back := roundTrip(t, doc)
	checkReferences(t, back)
	js := buf.String()
	for _, want := range []string{
		`"fileName":"/etc/hello.txt"`,
		`"comment":"source file //app:hello.txt"`,
		`"referenceLocator":"pkg:golang/example.com/a@v1.0.0"`,
		`"referenceLocator":"pkg:golang/stdlib@` + strings.TrimPrefix(runtime.Version(), "go") + `"`,
		`"spdxElementId":"SPDXRef-Image","relatedSpdxElement":"SPDXRef-Layer-0---app-layer","relationshipType":"CONTAINS"`,
		`"spdxElementId":"SPDXRef-Layer-0---app-layer","relatedSpdxElement":"SPDXRef-File-0--etc-hello.txt","relationshipType":"CONTAINS"`,
		`"spdxElementId":"SPDXRef-GoBinary-0--usr-bin-app","relatedSpdxElement":"SPDXRef-GoModule-example.com-a-v1.0.0","relationshipType":"DEPENDS_ON"`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("document lacks %s", want)
		}
	}
	again, _ := roundTrip(t, layerDocument(t))
	if again.String() != js {
		t.Error("not deterministic")
	}
	if doc.DocumentNamespace == Document("//app:image", Distro{ID: "alpine"}, testPackages()).DocumentNamespace {
		t.Error("the namespace does not depend on the layers")
	}
}

// checkReferences fails unless every relationship names elements of doc.
func checkReferences(t *testing.T, doc *spdx.Document) {
	t.Helper()
	ids := map[string]bool{"DOCUMENT": true}
	for _, p := range doc.Packages {
		ids[string(p.PackageSPDXIdentifier)] = true
	}
	for _, f := range doc.Files {
		ids[string(f.FileSPDXIdentifier)] = true
	}
	for _, r := range doc.Relationships {
		if !ids[string(r.RefA.ElementRefID)] || !ids[string(r.RefB.ElementRefID)] {
			t.Errorf("relationship %s %s %s names a missing element", r.RefA.ElementRefID, r.Relationship, r.RefB.ElementRefID)
		}
	}
}

func TestCycloneDX(t *testing.T) {
	doc := layerDocument(t)
	b, err := CycloneDXJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	bom := decodeCycloneDX(t, b)
	if bom.Metadata.Component.Name != "//app:image" || bom.Metadata.Component.Type != cdx.ComponentTypeContainer {
		t.Errorf("metadata component %+v", bom.Metadata.Component)
	}
	var layer *cdx.Component
	for i, c := range *bom.Components {
		if c.Name == "//app:layer" {
			layer = &(*bom.Components)[i]
		}
	}
	if layer == nil || layer.Components == nil || len(*layer.Components) != 4 {
		t.Fatalf("the layer does not hold its 3 files and its binary: %+v", layer)
	}
	again, _ := CycloneDXJSON(layerDocument(t))
	if !bytes.Equal(again, b) {
		t.Error("not deterministic")
	}
}

// decodeCycloneDX decodes b with the library and checks what the specification requires:
// the format and version, a serial number, every component's type, name and unique
// bom-ref, and dependencies between known components.
func decodeCycloneDX(t *testing.T, b []byte) *cdx.BOM {
	t.Helper()
	bom := &cdx.BOM{}
	if err := cdx.NewBOMDecoder(bytes.NewReader(b), cdx.BOMFileFormatJSON).Decode(bom); err != nil {
		t.Fatal(err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != CycloneDXVersion || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") || bom.Metadata == nil || bom.Metadata.Component == nil {
		t.Fatalf("header: %s %v %s", bom.BOMFormat, bom.SpecVersion, bom.SerialNumber)
	}
	refs := map[string]bool{}
	var walk func([]cdx.Component)
	walk = func(cs []cdx.Component) {
		for _, c := range cs {
			if c.Type == "" || c.Name == "" || c.BOMRef == "" || refs[c.BOMRef] {
				t.Errorf("component %+v: no type, name or bom-ref, or a repeated bom-ref", c)
			}
			refs[c.BOMRef] = true
			if c.Components != nil {
				walk(*c.Components)
			}
		}
	}
	walk(append([]cdx.Component{*bom.Metadata.Component}, *bom.Components...))
	for _, d := range *bom.Dependencies {
		for _, on := range append([]string{d.Ref}, *d.Dependencies...) {
			if !refs[on] {
				t.Errorf("dependency names %s, no component", on)
			}
		}
	}
	return bom
}

func TestCycloneDXNeedsARoot(t *testing.T) {
	doc := layerDocument(t)
	doc.Relationships = doc.Relationships[1:] // the DESCRIBES relationship
	if _, err := CycloneDX(doc); err == nil || err.Error() != "SPDX document //app:image describes no package of its own" {
		t.Fatalf("got %v", err)
	}
}

func TestReadLayerPartErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"nolabel.json": `{"files": []}`, "unknown.json": `{"label": "//a", "extra": 1}`})
	for name, want := range map[string]string{
		"nolabel.json": "layer SBOM part " + filepath.Join(dir, "nolabel.json") + ": no label",
		"unknown.json": "layer SBOM part " + filepath.Join(dir, "unknown.json") + `: json: unknown field "extra"`,
	} {
		if _, err := ReadLayerPart(filepath.Join(dir, name), "sha256:00"); err == nil || err.Error() != want {
			t.Errorf("%s: want %q, got %v", name, want, err)
		}
	}
}

// TestIndexDocumentWithLayers: an index's document holds each platform's layers, files and
// modules (renamed into the platform's IDs), and converts to a valid CycloneDX document.
func TestIndexDocumentWithLayers(t *testing.T) {
	image := layerDocument(t)
	amd := desc(t, "a", types.OCIManifestSchema1, &v1.Platform{OS: "linux", Architecture: "amd64"})
	arm := desc(t, "b", types.OCIManifestSchema1, &v1.Platform{OS: "linux", Architecture: "arm64"})
	index := desc(t, "c", types.OCIImageIndex, nil)
	doc, err := IndexDocument("//app:multi", "multi", index, []IndexImage{{Descriptor: amd, Doc: image}, {Descriptor: arm, Doc: image}})
	if err != nil {
		t.Fatal(err)
	}
	_, back := roundTrip(t, doc)
	checkReferences(t, back)
	if len(back.Files) != 2*len(image.Files) {
		t.Fatalf("%d files, want %d per platform", len(back.Files), len(image.Files))
	}
	b, err := CycloneDXJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	if bom := decodeCycloneDX(t, b); bom.Metadata.Component.Name != index.Digest.String() {
		t.Errorf("describes %s", bom.Metadata.Component.Name)
	}
}
