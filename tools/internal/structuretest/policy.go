package structuretest

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
)

// Policy is the rules an image must obey besides its CST YAML. Zero values check nothing.
type Policy struct {
	NonRoot            bool
	NoSetuid           bool
	NoWorldWritable    bool
	ForbiddenPaths     []string
	ForbiddenPackages  []string
	AllowedBaseDigests []string
	BaseDigest         string   // the base image's manifest digest
	BaseDiffIDs        []string // the base's layers, which must be the image's bottom layers
	AllowedPackages    []string
	DeniedPackages     []string
	AllowedLicenses    []string
	DeniedLicenses     []string
	SBOM               string // SPDX JSON file, read for the package and license rules
}

// Package is one package an SBOM lists.
type Package struct {
	Name, Version, License string
}

func (p Policy) needsSBOM() bool {
	return len(p.ForbiddenPackages)+len(p.AllowedPackages)+len(p.DeniedPackages)+len(p.AllowedLicenses)+len(p.DeniedLicenses) > 0
}

// ReadSBOM lists an SPDX JSON document's packages (APKs, Go modules, binaries), leaving out
// the image itself (CONTAINER) and its layers (ARCHIVE), which hold packages but are none.
func ReadSBOM(file string) ([]Package, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := spdxjson.Read(f)
	if err != nil {
		return nil, fmt.Errorf("SBOM %s: %w", file, err)
	}
	var out []Package
	for _, p := range doc.Packages {
		if p.PrimaryPackagePurpose == "CONTAINER" || p.PrimaryPackagePurpose == "ARCHIVE" {
			continue
		}
		out = append(out, Package{Name: p.PackageName, Version: p.PackageVersion, License: p.PackageLicenseDeclared})
	}
	return out, nil
}

// rootUser says whether a config's user runs as uid 0: empty, 0, root, or a name
// /etc/passwd gives uid 0.
func rootUser(user string, passwd []byte) bool {
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == "0" || name == "root" {
		return true
	}
	for _, line := range strings.Split(string(passwd), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[0] == name {
			return f[2] == "0"
		}
	}
	return false
}

func (p Policy) checkUser(img *Image) *Result {
	r := newResult("Policy: user is not root")
	passwd, _ := img.FS.ReadFile("/etc/passwd")
	if rootUser(img.Config.User, passwd) {
		r.errorf("config field User is %q, which runs as root (uid 0): rule non_root", img.Config.User)
	}
	return r
}

func (p Policy) checkFiles(img *Image) []*Result {
	var out []*Result
	setuid, writable := newResult("Policy: no setuid/setgid files"), newResult("Policy: no world-writable files")
	img.FS.Walk(func(e *Entry) {
		if p.NoSetuid && e.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			setuid.errorf("%s is %s (setuid/setgid): rule no_setuid", e.Path, e.Mode)
		}
		if p.NoWorldWritable && worldWritable(e.Mode) {
			writable.errorf("%s is %s (world-writable): rule no_world_writable", e.Path, e.Mode)
		}
	})
	if p.NoSetuid {
		out = append(out, setuid)
	}
	if p.NoWorldWritable {
		out = append(out, writable)
	}
	return out
}

// worldWritable leaves out what is world-writable by design: symlinks (always 0777), device
// nodes (/dev/null) and sticky directories (/tmp).
func worldWritable(m fs.FileMode) bool {
	if m&(fs.ModeSymlink|fs.ModeDevice|fs.ModeCharDevice) != 0 || m.IsDir() && m&fs.ModeSticky != 0 {
		return false
	}
	return m&0o002 != 0
}

func (p Policy) checkPaths(img *Image) *Result {
	r := newResult("Policy: no shell or package manager (paths)")
	for _, f := range p.ForbiddenPaths {
		if e, err := img.FS.Lstat(f); err == nil {
			r.errorf("%s is in the image (%s): rule forbidden_paths", f, e.Mode)
		}
	}
	return r
}

func (p Policy) checkBase(diffIDs []string) *Result {
	r := newResult("Policy: base image digest is allowed")
	if !slices.Contains(p.AllowedBaseDigests, p.BaseDigest) {
		r.errorf("base image digest %s is not in allowed_base_digests %v: rule allowed_base_digests", p.BaseDigest, p.AllowedBaseDigests)
	}
	if len(diffIDs) < len(p.BaseDiffIDs) || !slices.Equal(diffIDs[:len(p.BaseDiffIDs)], p.BaseDiffIDs) {
		r.errorf("the image's bottom layers are not those of base image %s: rule allowed_base_digests", p.BaseDigest)
	}
	return r
}

func (p Policy) checkPackages(pkgs []Package) []*Result {
	forbidden, allowed := newResult("Policy: no forbidden packages"), newResult("Policy: package allow/deny lists")
	licenses := newResult("Policy: license allow/deny lists")
	for _, pkg := range pkgs {
		id := pkg.Name + "@" + pkg.Version
		if slices.Contains(p.ForbiddenPackages, pkg.Name) {
			forbidden.errorf("package %s is in the image: rule forbidden_packages", id)
		}
		if slices.Contains(p.DeniedPackages, pkg.Name) {
			allowed.errorf("package %s is denied: rule denied_packages", id)
		}
		if len(p.AllowedPackages) > 0 && !slices.Contains(p.AllowedPackages, pkg.Name) {
			allowed.errorf("package %s is not in allowed_packages: rule allowed_packages", id)
		}
		p.checkLicense(licenses, id, pkg.License)
	}
	var out []*Result
	for _, r := range []struct {
		on  bool
		res *Result
	}{{len(p.ForbiddenPackages) > 0, forbidden}, {len(p.AllowedPackages)+len(p.DeniedPackages) > 0, allowed}, {len(p.AllowedLicenses)+len(p.DeniedLicenses) > 0, licenses}} {
		if r.on {
			out = append(out, r.res)
		}
	}
	return out
}

// licenseIDs splits an SPDX license expression into its license ids (operators, the
// exception after WITH and parentheses left out).
func licenseIDs(expr string) []string {
	var out []string
	fields := strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(expr))
	for i := 0; i < len(fields); i++ {
		switch f := fields[i]; f {
		case "AND", "OR", "and", "or":
		case "WITH", "with":
			i++
		default:
			out = append(out, f)
		}
	}
	return out
}

func (p Policy) checkLicense(r *Result, id, expr string) {
	ids := licenseIDs(expr)
	if len(ids) == 0 {
		ids = []string{"NOASSERTION"}
	}
	for _, l := range ids {
		if slices.Contains(p.DeniedLicenses, l) {
			r.errorf("package %s has license %s (%s): rule denied_licenses", id, l, expr)
		}
		if len(p.AllowedLicenses) > 0 && !slices.Contains(p.AllowedLicenses, l) {
			r.errorf("package %s has license %s (%s), not in allowed_licenses: rule allowed_licenses", id, l, expr)
		}
	}
}
