package apk

import (
	"encoding/json"
	"fmt"
	"os"
)

// Facts is what the build learns about a package (apk-extract writes them); later actions (installed db, SBOM) read
// it instead of the package.
type Facts struct {
	PkgInfo     *PkgInfo `json:"pkginfo"`
	Control     string   `json:"control"` // sha1 SRI of the control member
	Data        string   `json:"data"`    // sha256 SRI of the data member
	APKSize     int64    `json:"apk_size"`
	ControlSize int64    `json:"control_size"`
	Scripts     []Script `json:"scripts,omitempty"`
	Files       []Entry  `json:"files"`
	// OSRelease is the content of the package's os-release files (OSReleasePaths).
	OSRelease map[string]string `json:"os_release,omitempty"`
}

// ReadFacts reads a facts file written by apk-extract.
func ReadFacts(path string) (*Facts, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &Facts{}
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("package facts %s: %w", path, err)
	}
	if f.PkgInfo == nil || f.PkgInfo.Name == "" {
		return nil, fmt.Errorf("package facts %s: no package", path)
	}
	return f, nil
}

// ReadInstalled reads the facts files of packages installed together for arch, in order.
func ReadInstalled(factsFiles []string, arch string) ([]*Installed, error) {
	var pkgs []*Installed
	for _, f := range factsFiles {
		facts, err := ReadFacts(f)
		if err != nil {
			return nil, err
		}
		p, err := facts.Installed()
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

// Installed converts facts to the installer's view.
func (f *Facts) Installed() (*Installed, error) {
	c, err := ParseSRI(f.Control)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", f.PkgInfo.Name, err)
	}
	return &Installed{Info: f.PkgInfo, ControlSHA1: c.Sum, APKSize: f.APKSize, Entries: f.Files, Scripts: f.Scripts}, nil
}

// FactsOf is what a package's head and data member tell about it.
func FactsOf(h *Head, data *DataResult) *Facts {
	f := &Facts{
		PkgInfo:     h.PkgInfo,
		Control:     SRI{Algo: "sha1", Sum: h.ControlSHA1()}.String(),
		Data:        SRI{Algo: "sha256", Sum: data.SHA256}.String(),
		APKSize:     h.DataOffset() + data.Size,
		ControlSize: int64(len(h.Control)),
		Files:       data.Entries,
		OSRelease:   data.OSRelease,
	}
	for _, n := range h.ControlNames {
		if n != ".PKGINFO" {
			f.Scripts = append(f.Scripts, Script{Name: n, Mode: h.ControlModes[n], Content: h.ControlFiles[n]})
		}
	}
	return f
}

// Marshal renders the facts as apk-extract writes them.
func (f *Facts) Marshal() []byte {
	b, _ := json.MarshalIndent(f, "", "  ")
	return append(b, '\n')
}
