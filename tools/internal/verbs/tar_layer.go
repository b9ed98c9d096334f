package verbs

import (
	"errors"
	"fmt"
	"io"

	"github.com/rules-wharf/rules_wharf/tools/internal/attribution"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// tarLayerVerb makes a layer of an archive someone else packed (oci_image's `tars`), as is
// when it already is a valid layer.
func tarLayerVerb(args []string, log io.Writer) error {
	var tarIn string
	fs := newFlags("tar-layer")
	fs.StringVar(&tarIn, "tar", "", "the archive: .tar, .tar.gz or .tar.zst")
	out := newLayerOutputs(fs, "output: the layer blob")
	out.listingFlag(fs)
	out.compressionFlags(fs, "gzip, zstd or none: how a plain tar is compressed (a compressed archive is kept as it is)")
	out.createdByFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("tar", tarIn, "blob", out.blob, "metadata", out.metadata); err != nil {
		return err
	}
	if err := out.parseCompression(); err != nil {
		return err
	}
	extra := map[string][]byte{}
	err := out.publish(func(blob io.Writer) (*layer.Metadata, error) {
		m, err := layer.Passthrough(blob, tarIn, out.c, out.level)
		if err != nil || out.listing == "" {
			return m, err
		}
		// The archive is kept as is: its entries are listed in a read of their own, once
		// the checks passed.
		entries, err := attribution.ListArchive(tarIn)
		extra[out.listing] = attribution.MarshalListing(entries)
		return m, err
	}, extra)
	if !errors.Is(err, layer.ErrGlobalHeader) {
		return err
	}
	// Kept as is, a global header's records would apply to the entries after it.
	fmt.Fprintf(log, "%s holds a global PAX header (e.g. git archive's): re-packed without it, not used as is\n", tarIn)
	return out.writeTar(func(w io.Writer) error {
		return layer.WriteTarWithArchives(w, nil, []string{tarIn}, layer.Epoch)
	}, nil)
}
