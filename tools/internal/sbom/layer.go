package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
)

// LayerPart is what a layer a Bazel rule wrote contributes to its images' SBOMs: the files
// it put in, each attributed to the label of the target that made it (or of the source
// file), and the Go binaries among them with their modules. `wharf sbom-layer` writes it
// once per layer; every image's `wharf sbom` reads it.
type LayerPart struct {
	Label string `json:"label"`
	// Digest is the layer's, from its metadata when an image reads the part (the part is
	// written beside the layer, not after it).
	Digest     string     `json:"-"`
	Files      []File     `json:"files"`
	GoBinaries []GoBinary `json:"goBinaries,omitempty"`
}

// File is one regular file a rule put in a layer.
type File struct {
	Path   string `json:"path"`
	Label  string `json:"label"`
	Source bool   `json:"source,omitempty"`
	SHA1   string `json:"sha1"`
	SHA256 string `json:"sha256"`
}

// GoBinary is a Go program in a layer: its main package and module, the Go version it was
// built with, and every module it links (what `go version -m` lists as dep).
type GoBinary struct {
	Path        string     `json:"path"`
	Label       string     `json:"label"`
	GoVersion   string     `json:"goVersion"`
	MainPackage string     `json:"mainPackage"`
	MainModule  string     `json:"mainModule,omitempty"`
	Modules     []GoModule `json:"modules,omitempty"`
}

// GoModule is a module a binary links: path and version as go.mod requires it, with its
// replacement if go.mod replaces it, and the go.sum checksum (h1:) of what was built.
type GoModule struct {
	Path           string `json:"path"`
	Version        string `json:"version"`
	ReplacePath    string `json:"replacePath,omitempty"`
	ReplaceVersion string `json:"replaceVersion,omitempty"`
	Sum            string `json:"sum,omitempty"`
}

// WriteLayerPart writes p as JSON, files and binaries sorted by path.
func WriteLayerPart(path string, p *LayerPart) error {
	sort.Slice(p.Files, func(i, j int) bool { return p.Files[i].Path < p.Files[j].Path })
	sort.Slice(p.GoBinaries, func(i, j int) bool { return p.GoBinaries[i].Path < p.GoBinaries[j].Path })
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// ReadLayerPart reads what WriteLayerPart wrote, for the layer whose digest is digest.
func ReadLayerPart(path, digest string) (*LayerPart, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &LayerPart{Digest: digest}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("layer SBOM part %s: %w", path, err)
	}
	if p.Label == "" {
		return nil, fmt.Errorf("layer SBOM part %s: no label", path)
	}
	return p, nil
}
