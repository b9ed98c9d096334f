package attribution

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// LayerInfo is a layer as the files document lists it.
type LayerInfo struct {
	Index  int    `json:"index"`
	Digest string `json:"digest"`
	Label  string `json:"label,omitempty"`
	Base   string `json:"base,omitempty"`
	// Entries is "listed" or "unknown": a pulled base's layers have no listing, and
	// their entries are not read (that would mean unpacking the blob).
	Entries string `json:"entries"`
}

// Document is the files document: the layers, then every final path.
type Document struct {
	Layers []LayerInfo `json:"layers"`
	Files  []*File     `json:"files"`
}

// Build applies the layers in order.
func Build(layers []Layer) (*Document, error) {
	fs := NewFS()
	d := &Document{Layers: make([]LayerInfo, len(layers))}
	for i := range layers {
		l := &layers[i]
		if err := fs.Apply(i, l); err != nil {
			return nil, err
		}
		entries := "listed"
		if !l.Known {
			entries = "unknown"
		}
		d.Layers[i] = LayerInfo{Index: i, Digest: l.Digest, Label: l.Label, Base: l.Base, Entries: entries}
	}
	d.Files = fs.Files()
	return d, nil
}

// Write renders d one file per line (so that grep finds a path's line), deterministically:
// structs and sorted paths through encoding/json.
func (d *Document) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	layers, err := json.Marshal(d.Layers)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\"layers\":%s,\n\"files\":[", layers)
	for i, f := range d.Files {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		bw.Write(b)
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// ReadDocument reads a files document.
func ReadDocument(name string) (*Document, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	d := &Document{}
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("files document %s: %w", name, err)
	}
	return d, nil
}
