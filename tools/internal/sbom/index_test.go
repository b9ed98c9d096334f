package sbom

import (
	"bytes"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

func desc(t *testing.T, hexByte string, mt types.MediaType, p *v1.Platform) v1.Descriptor {
	t.Helper()
	h, err := v1.NewHash("sha256:" + strings.Repeat(hexByte, 64))
	if err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: 100, Platform: p}
}

func archPackages(arch string) []Package {
	return []Package{
		{Info: &apkfile.PkgInfo{Name: "musl", Version: "1.2.5-r0", Arch: arch, Provides: []string{"so:libc.musl-" + arch + ".so.1=1"}}, ControlSHA1: make([]byte, 20), DataSHA256: make([]byte, 32)},
		{Info: &apkfile.PkgInfo{Name: "busybox", Version: "1.36.1-r5", Arch: arch, Depends: []string{"so:libc.musl-" + arch + ".so.1"}}, ControlSHA1: make([]byte, 20), DataSHA256: make([]byte, 32)},
	}
}

func TestIndexDocument(t *testing.T) {
	amd := desc(t, "a", types.OCIManifestSchema1, &v1.Platform{OS: "linux", Architecture: "amd64"})
	arm := desc(t, "b", types.OCIManifestSchema1, &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"})
	riscv := desc(t, "c", types.OCIManifestSchema1, &v1.Platform{OS: "linux", Architecture: "riscv64"})
	index := desc(t, "d", types.OCIImageIndex, nil)
	images := []IndexImage{
		{Descriptor: amd, Doc: Document("//app:image", Distro{ID: "alpine"}, archPackages("x86_64"))},
		{Descriptor: arm, Doc: Document("//app:image", Distro{ID: "alpine"}, archPackages("aarch64"))},
		{Descriptor: riscv}, // no packages, no document
	}
	doc, err := IndexDocument("//app:multi", "multi", index, images)
	if err != nil {
		t.Fatal(err)
	}
	buf, back := roundTrip(t, doc)
	// Index, three images, two packages for each of two platforms.
	if len(back.Packages) != 1+3+4 {
		t.Fatalf("%d packages", len(back.Packages))
	}
	js := strings.ReplaceAll(buf.String(), `\u0026`, "&")
	for _, want := range []string{
		`"spdxElementId":"SPDXRef-DOCUMENT","relatedSpdxElement":"SPDXRef-Index","relationshipType":"DESCRIBES"`,
		`"spdxElementId":"SPDXRef-Index","relatedSpdxElement":"SPDXRef-Image-linux-amd64","relationshipType":"VARIANT_OF"`,
		`"spdxElementId":"SPDXRef-Index","relatedSpdxElement":"SPDXRef-Image-linux-arm64-v8","relationshipType":"VARIANT_OF"`,
		`"spdxElementId":"SPDXRef-Index","relatedSpdxElement":"SPDXRef-Image-linux-riscv64","relationshipType":"VARIANT_OF"`,
		`"spdxElementId":"SPDXRef-Image-linux-amd64","relatedSpdxElement":"SPDXRef-linux-amd64-Package-musl-1.2.5-r0","relationshipType":"CONTAINS"`,
		`"spdxElementId":"SPDXRef-Image-linux-arm64-v8","relatedSpdxElement":"SPDXRef-linux-arm64-v8-Package-busybox-1.36.1-r5","relationshipType":"CONTAINS"`,
		`"spdxElementId":"SPDXRef-linux-arm64-v8-Package-busybox-1.36.1-r5","relatedSpdxElement":"SPDXRef-linux-arm64-v8-Package-musl-1.2.5-r0","relationshipType":"DEPENDS_ON"`,
		`"name":"sha256:` + strings.Repeat("d", 64) + `"`,
		`"referenceLocator":"pkg:oci/multi@sha256%3A` + strings.Repeat("d", 64) + `?mediaType=application%2Fvnd.oci.image.index.v1%2Bjson"`,
		`"referenceLocator":"pkg:oci/multi@sha256%3A` + strings.Repeat("b", 64) + `?arch=arm64&mediaType=application%2Fvnd.oci.image.manifest.v1%2Bjson&os=linux&variant=v8"`,
		`"referenceLocator":"pkg:apk/alpine/musl@1.2.5-r0?arch=aarch64"`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("document lacks %s", want)
		}
	}
	if strings.Contains(js, `"SPDXRef-Image"`) {
		t.Error("an image document's root survived")
	}
	again, _ := IndexDocument("//app:multi", "multi", index, images)
	var buf2 bytes.Buffer
	spdxjson.Write(again, &buf2)
	if buf2.String() != buf.String() {
		t.Error("not deterministic")
	}

	if _, err := IndexDocument("//app:multi", "multi", index, []IndexImage{{Descriptor: desc(t, "e", types.OCIManifestSchema1, nil)}}); err == nil || !strings.Contains(err.Error(), "no platform") {
		t.Errorf("image without platform: %v", err)
	}
	if _, err := IndexDocument("//app:multi", "multi", index, []IndexImage{images[0], images[0]}); err == nil || !strings.Contains(err.Error(), "two images") {
		t.Errorf("duplicate platform: %v", err)
	}
}
