package sbom

import (
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// Distro names the distribution in APK package URLs: pkg:apk/<ID>/...?distro=<Release>.
type Distro struct {
	ID string
	// Release is the distro qualifier syft adds: ID-VERSION_ID (or ID-BUILD_ID); empty when
	// the distribution was given rather than read from the image.
	Release string
}

// OSRelease reads an os-release(5) file: KEY=value lines, values optionally quoted.
func OSRelease(content string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
			if line[len(k)+1] == '"' {
				v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
			}
		}
		m[strings.TrimSpace(k)] = v
	}
	return m
}

// OSReleaseFile is one package's entry at an os-release path: its type and, for a regular
// file, its content.
type OSReleaseFile struct {
	Type, Content string
}

// DistroOf is the distribution of an image whose packages, in install order, have the given
// os-release entries (apkfile.OSReleasePaths -> entry), read as syft reads it: the ID of /etc/os-release, or
// of /usr/lib/os-release when that is absent or a symlink (Alpine links one to the other).
// The last package to write a path wins, as it does in the image. ok is false when no
// package installs either file, or it has no ID.
func DistroOf(pkgs []map[string]OSReleaseFile) (Distro, bool) {
	final := map[string]OSReleaseFile{}
	for _, p := range pkgs {
		for path, f := range p {
			final[path] = f
		}
	}
	for _, path := range apkfile.OSReleasePaths {
		f, ok := final[path]
		if !ok || f.Type != "file" {
			continue
		}
		m := OSRelease(f.Content)
		id := strings.ToLower(m["ID"])
		if id == "" {
			continue
		}
		d := Distro{ID: id}
		if v := m["VERSION_ID"]; v != "" {
			d.Release = id + "-" + v
		} else if v := m["BUILD_ID"]; v != "" {
			d.Release = id + "-" + v
		}
		return d, true
	}
	return Distro{}, false
}
