package apkfile

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
	// OSRelease is the content of the package's os-release files (OSReleasePaths).
	OSRelease map[string]string `json:"os_release,omitempty"`
	// Ldso is nil in facts written before it existed (see Ldso).
	Ldso *Ldso `json:"ldso,omitempty"`
	// Files comes last, as factsJSON writes it.
	Files []Entry `json:"files"`
}

// Script is an install script from a control member.
type Script struct {
	Name    string `json:"name"`
	Mode    int64  `json:"mode"`
	Content []byte `json:"content"`
}

// factsFields is Facts without its methods, for factsJSON.
type factsFields Facts

// factsJSON is Facts as a facts file holds it: the files in their JSON form (entryJSON), the
// same bytes as through Entry's MarshalJSON and UnmarshalJSON, which encoding/json would
// call per entry, scanning the entry's bytes again each time (half of a 100-package
// database's time went to reading the facts that way).
type factsJSON struct {
	*factsFields
	Files []entryJSON `json:"files"` // shadows factsFields.Files
}

// ReadFacts reads a facts file written by apk-extract.
func ReadFacts(path string) (*Facts, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &Facts{}
	j := factsJSON{factsFields: (*factsFields)(f)}
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("package facts %s: %w", path, err)
	}
	if j.Files != nil {
		f.Files = make([]Entry, len(j.Files))
		for i := range j.Files {
			f.Files[i] = j.Files[i].entry()
		}
	}
	if f.PkgInfo == nil || f.PkgInfo.Name == "" {
		return nil, fmt.Errorf("package facts %s: no package", path)
	}
	return f, nil
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
		Ldso:        data.Ldso,
	}
	for _, n := range h.ControlNames {
		if n != ".PKGINFO" {
			f.Scripts = append(f.Scripts, Script{Name: n, Mode: h.ControlModes[n], Content: h.ControlFiles[n]})
		}
	}
	return f
}

// Marshal renders the facts as apk-extract writes them: compact, a hand-off between actions
// (indented, a large package's facts took three times as long to write).
func (f *Facts) Marshal() []byte {
	j := factsJSON{factsFields: (*factsFields)(f)}
	if f.Files != nil {
		j.Files = make([]entryJSON, len(f.Files))
		for i, e := range f.Files {
			j.Files[i] = e.wire()
		}
	}
	b, _ := json.Marshal(j)
	return append(b, '\n')
}
