package sbom

import (
	"bytes"
	"strings"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

func TestDocumentValidatesAndRoundTrips(t *testing.T) {
	pkgs := testPackages()
	doc := Document("//app:image", Distro{ID: "alpine"}, pkgs)
	buf, back := roundTrip(t, doc)
	if len(back.Packages) != 4 {
		t.Fatalf("%d packages", len(back.Packages))
	}
	js := buf.String()
	for _, want := range []string{
		`"referenceLocator":"pkg:apk/alpine/ssl_client@1.36.1-r5?arch=x86_64\u0026origin=busybox"`,
		`"spdxElementId":"SPDXRef-Package-busybox-1.36.1-r5","relatedSpdxElement":"SPDXRef-Package-musl-1.2.5-r0","relationshipType":"DEPENDS_ON"`,
		`"spdxElementId":"SPDXRef-Package-ssl-client-1.36.1-r5","relatedSpdxElement":"SPDXRef-Package-busybox-1.36.1-r5","relationshipType":"DEPENDS_ON"`,
		`"created":"1970-01-01T00:00:00Z"`,
	} {
		if !strings.Contains(strings.ReplaceAll(js, "&", `\u0026`), want) {
			t.Errorf("document lacks %s\n%s", want, js)
		}
	}
	var again bytes.Buffer
	spdxjson.Write(Document("//app:image", Distro{ID: "alpine"}, pkgs), &again)
	if again.String() != js {
		t.Fatal("not deterministic")
	}
}

// roundTrip checks doc is valid SPDX, written as JSON and read back; it returns the JSON
// and what was read.
func roundTrip(t *testing.T, doc *spdx.Document) (*bytes.Buffer, *spdx.Document) {
	t.Helper()
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf); err != nil {
		t.Fatal(err)
	}
	back, err := spdxjson.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := spdxlib.ValidateDocument(back); err != nil {
		t.Fatal(err)
	}
	return &buf, back
}

// testPackages are three APKs: one provides a library, one depends on it and conflicts
// with another package, one depends on the second.
func testPackages() []Package {
	return []Package{
		{Info: &apkfile.PkgInfo{Name: "musl", Version: "1.2.5-r0", Arch: "x86_64", License: "MIT", Origin: "musl", Provides: []string{"so:libc.musl-x86_64.so.1=1"}}, ControlSHA1: make([]byte, 20), DataSHA256: make([]byte, 32), URL: "https://example.org/musl.apk"},
		{Info: &apkfile.PkgInfo{Name: "busybox", Version: "1.36.1-r5", Arch: "x86_64", License: "GPL-2.0-only", Origin: "busybox", Depends: []string{"so:libc.musl-x86_64.so.1", "!busybox-old"}}, ControlSHA1: make([]byte, 20), DataSHA256: make([]byte, 32)},
		{Info: &apkfile.PkgInfo{Name: "ssl_client", Version: "1.36.1-r5", Arch: "x86_64", Origin: "busybox", Depends: []string{"busybox=1.36.1-r5"}}, ControlSHA1: make([]byte, 20), DataSHA256: make([]byte, 32)},
	}
}
