package installer

import (
	"fmt"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// ReadInstalled reads the facts files of packages installed together for arch, in order.
func ReadInstalled(factsFiles []string, arch string) ([]*Installed, error) {
	var pkgs []*Installed
	for _, f := range factsFiles {
		facts, err := apkfile.ReadFacts(f)
		if err != nil {
			return nil, err
		}
		p, err := FromFacts(facts)
		if err != nil {
			return nil, err
		}
		if p.Info.Arch != "" && p.Info.Arch != "noarch" && p.Info.Arch != arch {
			return nil, fmt.Errorf("package %s-%s is for %s, not %s", p.Info.Name, p.Info.Version, p.Info.Arch, arch)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// FromFacts is the installer's view of a package's facts.
func FromFacts(f *apkfile.Facts) (*Installed, error) {
	c, err := apkfile.ParseSRI(f.Control)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", f.PkgInfo.Name, err)
	}
	return &Installed{Info: f.PkgInfo, ControlSHA1: c.Sum, APKSize: f.APKSize, Entries: f.Files, Scripts: f.Scripts, Ldso: f.Ldso}, nil
}
