package verbs

import (
	"io"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// writeLayer writes a layer blob and its metadata together: fill gets the uncompressed tar
// stream; both files appear only if everything succeeded.
func writeLayer(blobOut, metaOut string, c layer.Compression, level int, createdBy string, fill func(io.Writer) error) error {
	return writeLayerAnd(blobOut, metaOut, c, level, createdBy, fill, nil)
}

// writeLayerAnd is writeLayer with more output files (path -> content) that appear
// together with the layer or not at all.
func writeLayerAnd(blobOut, metaOut string, c layer.Compression, level int, createdBy string, fill func(io.Writer) error, extra map[string][]byte) error {
	var outs atomicfile.Set
	defer outs.Abort()
	blob, err := outs.Create(blobOut)
	if err != nil {
		return err
	}
	w, err := layer.NewWriter(blob, c, level)
	if err != nil {
		return err
	}
	defer w.Abort()
	if err := fill(w); err != nil {
		return err
	}
	meta, err := w.Close()
	if err != nil {
		return err
	}
	meta.CreatedBy = createdBy
	for p, b := range extra {
		if err := outs.WriteFile(p, b); err != nil {
			return err
		}
	}
	// The metadata is published last (atomicfile.Set): no metadata without its blob.
	if err := outs.WriteFile(metaOut, meta.Marshal()); err != nil {
		return err
	}
	return outs.Commit()
}
