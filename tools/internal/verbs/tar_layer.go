package verbs

import (
	"errors"
	"fmt"
	"io"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// tarLayerVerb makes a layer of an archive someone else packed (oci_image's `tars`), as is
// when it already is a valid layer.
func tarLayerVerb(args []string, log io.Writer) error {
	var tarIn, compression, blobOut, metaOut, createdBy string
	var level int
	fs := newFlags("tar-layer")
	fs.StringVar(&tarIn, "tar", "", "the archive: .tar, .tar.gz or .tar.zst")
	fs.StringVar(&compression, "compression", "gzip", "gzip, zstd or none: how a plain tar is compressed (a compressed archive is kept as it is)")
	fs.IntVar(&level, "level", -1, "compression level (-1: default)")
	fs.StringVar(&blobOut, "blob", "", "output: the layer blob")
	fs.StringVar(&metaOut, "metadata", "", "output: layer metadata JSON")
	fs.StringVar(&createdBy, "created-by", "", "history entry text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("tar", tarIn, "blob", blobOut, "metadata", metaOut); err != nil {
		return err
	}
	c, err := layer.ParseCompression(compression)
	if err != nil {
		return err
	}
	err = passthroughLayer(blobOut, metaOut, tarIn, c, level, createdBy)
	if !errors.Is(err, layer.ErrGlobalHeader) {
		return err
	}
	// Kept as is, a global header's records would apply to the entries after it.
	fmt.Fprintf(log, "%s holds a global PAX header (e.g. git archive's): re-packed without it, not used as is\n", tarIn)
	return writeLayer(blobOut, metaOut, c, level, createdBy, func(w io.Writer) error {
		return layer.WriteTarWithArchives(w, nil, []string{tarIn}, layer.Epoch)
	})
}

// passthroughLayer writes the blob and metadata of layer.Passthrough, both or neither.
func passthroughLayer(blobOut, metaOut, tarIn string, c layer.Compression, level int, createdBy string) error {
	var outs atomicfile.Set
	defer outs.Abort()
	blob, err := outs.Create(blobOut)
	if err != nil {
		return err
	}
	meta, err := layer.Passthrough(blob, tarIn, c, level)
	if err != nil {
		return err
	}
	meta.CreatedBy = createdBy
	if err := outs.WriteFile(metaOut, meta.Marshal()); err != nil {
		return err
	}
	return outs.Commit()
}
