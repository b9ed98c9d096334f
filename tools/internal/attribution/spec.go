package attribution

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// Spec is what the image rule knows of its layers, bottom first (`files --spec-json`).
type Spec struct {
	Layers []SpecLayer `json:"layers"`
}

// SpecLayer is one layer (Metadata set) or the layers of a pulled base (Extern set).
type SpecLayer struct {
	// Metadata is the layer metadata file written beside the blob.
	Metadata string `json:"metadata,omitempty"`
	// Label is the target whose action made the layer.
	Label string `json:"label,omitempty"`
	// Facts are the package facts of the APK packages the layer holds, in order.
	Facts []string `json:"facts,omitempty"`
	// Listing is the layer's entries as its action wrote them (WriteListing).
	Listing string `json:"listing,omitempty"`
	// Extern is a pulled base's JSON list of layer metadata (layout-import --layers);
	// Base names that image.
	Extern string `json:"extern,omitempty"`
	Base   string `json:"base,omitempty"`
}

// ParseSpec reads the spec's JSON text.
func ParseSpec(text string) (*Spec, error) {
	s := &Spec{}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("files spec: %w", err)
	}
	return s, nil
}

// Load reads every file the spec names into layers.
func (s *Spec) Load() ([]Layer, error) {
	var out []Layer
	for _, sl := range s.Layers {
		if sl.Extern != "" {
			ext, err := loadExtern(sl)
			if err != nil {
				return nil, err
			}
			out = append(out, ext...)
			continue
		}
		l, err := loadLayer(sl)
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	return out, nil
}

// loadLayer reads one layer's metadata and whatever lists its entries.
func loadLayer(sl SpecLayer) (*Layer, error) {
	m, err := layer.ReadMetadata(sl.Metadata)
	if err != nil {
		return nil, err
	}
	l := &Layer{Digest: m.Digest, Label: sl.Label, Known: true}
	for _, name := range sl.Facts {
		f, err := apkfile.ReadFacts(name)
		if err != nil {
			return nil, err
		}
		p := f.PkgInfo
		l.Groups = append(l.Groups, Group{
			Package: &Package{Name: p.Name, Version: p.Version, Origin: p.Origin, License: p.License},
			Entries: f.Files,
		})
	}
	if sl.Listing != "" {
		entries, err := ReadListing(sl.Listing)
		if err != nil {
			return nil, err
		}
		l.Groups = append(l.Groups, Group{Entries: entries})
	}
	if len(sl.Facts) == 0 && sl.Listing == "" {
		return nil, fmt.Errorf("layer %s (%s of %s): neither package facts nor a listing say what it holds", m.Digest, sl.Metadata, sl.Label)
	}
	return l, nil
}

// loadExtern reads a pulled base's layer metadata list: layers whose entries are unknown.
func loadExtern(sl SpecLayer) ([]Layer, error) {
	b, err := os.ReadFile(sl.Extern)
	if err != nil {
		return nil, err
	}
	var metas []layer.Metadata
	if err := json.Unmarshal(b, &metas); err != nil {
		return nil, fmt.Errorf("base image layers %s: %w", sl.Extern, err)
	}
	out := make([]Layer, len(metas))
	for i, m := range metas {
		out[i] = Layer{Digest: m.Digest, Base: sl.Base}
	}
	return out, nil
}
