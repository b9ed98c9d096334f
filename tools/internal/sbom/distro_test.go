package sbom

import (
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

func TestDistroOf(t *testing.T) {
	wolfi := `ID=wolfi
NAME="Wolfi"
PRETTY_NAME="Wolfi"
VERSION_ID="20230201"
HOME_URL="https://wolfi.dev"
`
	alpine := "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.22.2\n"
	file := func(c string) OSReleaseFile { return OSReleaseFile{Type: "file", Content: c} }
	link := OSReleaseFile{Type: "symlink"}
	cases := []struct {
		name string
		pkgs []map[string]OSReleaseFile
		want Distro
		ok   bool
	}{
		{"wolfi-baselayout's /etc/os-release", []map[string]OSReleaseFile{{}, {"etc/os-release": file(wolfi)}, {}}, Distro{"wolfi", "wolfi-20230201"}, true},
		{"alpine-release: /etc/os-release links to /usr/lib/os-release", []map[string]OSReleaseFile{{"etc/os-release": link, "usr/lib/os-release": file(alpine)}}, Distro{"alpine", "alpine-3.22.2"}, true},
		{"a later package replaces the file", []map[string]OSReleaseFile{{"etc/os-release": file(alpine)}, {"etc/os-release": file(wolfi)}}, Distro{"wolfi", "wolfi-20230201"}, true},
		{"BUILD_ID without VERSION_ID, mixed-case ID", []map[string]OSReleaseFile{{"etc/os-release": file("ID='Chainguard'\nBUILD_ID=2024\n")}}, Distro{"chainguard", "chainguard-2024"}, true},
		{"no ID: the other file", []map[string]OSReleaseFile{{"etc/os-release": file("NAME=x\n"), "usr/lib/os-release": file(alpine)}}, Distro{"alpine", "alpine-3.22.2"}, true},
		{"no os-release", []map[string]OSReleaseFile{{}, {}}, Distro{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := DistroOf(c.pkgs)
			if got != c.want || ok != c.ok {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, c.want, c.ok)
			}
		})
	}
	if got := OSRelease(`ID="a \"b\""` + "\n# ID=c\n")["ID"]; got != `a "b"` {
		t.Errorf("quoted value: %q", got)
	}
}

// syft's package URL for an apk: pkg:apk/<id>/<name>@<version>?arch=..&distro=<id>-<version_id>.
func TestPURLWithDistro(t *testing.T) {
	got := PURL(Distro{"wolfi", "wolfi-20230201"}, &apkfile.PkgInfo{Name: "glibc", Version: "2.40-r1", Arch: "x86_64"})
	if want := "pkg:apk/wolfi/glibc@2.40-r1?arch=x86_64&distro=wolfi-20230201"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
