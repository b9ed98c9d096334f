package verbs

import (
	"flag"
	"io"
	"maps"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/attribution"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// layerOutputs are the outputs of a verb that writes one layer (layer, tar-layer,
// apk-extract, merge-layers, apko-layer, apk-installdb): the blob and its metadata,
// published together, the metadata last, so that no metadata exists without its blob.
type layerOutputs struct {
	blob, metadata string
	// createdBy is the history entry: --created-by where the verb takes it, else what
	// the verb says.
	createdBy string
	// compression is --compression's value, c what it names (gzip without the flag).
	compression string
	c           layer.Compression
	level       int
	// listing is --listing: the layer's entries (attribution.MarshalListing), which the
	// image's files document reads instead of the blob.
	listing string
}

// newLayerOutputs declares --blob (blobHelp says what it holds) and --metadata.
func newLayerOutputs(fs *flag.FlagSet, blobHelp string) *layerOutputs {
	o := &layerOutputs{compression: string(layer.Gzip), c: layer.Gzip, level: -1}
	fs.StringVar(&o.blob, "blob", "", blobHelp)
	fs.StringVar(&o.metadata, "metadata", "", "output: layer metadata JSON")
	return o
}

// createdByFlag declares --created-by.
func (o *layerOutputs) createdByFlag(fs *flag.FlagSet) {
	fs.StringVar(&o.createdBy, "created-by", "", "history entry text")
}

// listingFlag declares --listing, for the verbs whose layer no package facts describe.
func (o *layerOutputs) listingFlag(fs *flag.FlagSet) {
	fs.StringVar(&o.listing, "listing", "", "output: the layer's entries as JSON (optional)")
}

// compressionFlags declares --compression (help says what it applies to) and --level.
func (o *layerOutputs) compressionFlags(fs *flag.FlagSet, help string) {
	fs.StringVar(&o.compression, "compression", o.compression, help)
	fs.IntVar(&o.level, "level", o.level, "compression level (-1: default)")
}

// parseCompression reads --compression; a verb calls it before reading its inputs.
func (o *layerOutputs) parseCompression() error {
	c, err := layer.ParseCompression(o.compression)
	if err != nil {
		return err
	}
	o.c = c
	return nil
}

// publish writes the blob with write, which returns its metadata (write gets nil when
// the verb has no blob output), then the extra files (path -> content), then the
// metadata: all of them or none.
func (o *layerOutputs) publish(write func(blob io.Writer) (*layer.Metadata, error), extra map[string][]byte) error {
	var outs atomicfile.Set
	defer outs.Abort()
	var blob io.Writer
	if o.blob != "" {
		f, err := outs.Create(o.blob)
		if err != nil {
			return err
		}
		blob = f
	}
	meta, err := write(blob)
	if err != nil {
		return err
	}
	meta.CreatedBy = o.createdBy
	for p, b := range extra {
		if err := outs.WriteFile(p, b); err != nil {
			return err
		}
	}
	if err := outs.WriteFile(o.metadata, meta.Marshal()); err != nil {
		return err
	}
	return outs.Commit()
}

// writeTar publishes a layer whose uncompressed tar stream fill writes, compressed as
// the flags say, with the extra files (and with --listing, its entries, listed as the
// stream passes).
func (o *layerOutputs) writeTar(fill func(io.Writer) error, extra map[string][]byte) error {
	if o.listing != "" {
		extra = maps.Clone(extra)
		if extra == nil {
			extra = map[string][]byte{}
		}
	}
	return o.publish(func(blob io.Writer) (*layer.Metadata, error) {
		w, err := layer.NewWriter(blob, o.c, o.level)
		if err != nil {
			return nil, err
		}
		defer w.Abort()
		if o.listing == "" {
			if err := fill(w); err != nil {
				return nil, err
			}
			return w.Close()
		}
		lister := attribution.NewLister()
		if err := fill(io.MultiWriter(w, lister)); err != nil {
			return nil, err
		}
		entries, err := lister.Close()
		if err != nil {
			return nil, err
		}
		extra[o.listing] = attribution.MarshalListing(entries)
		return w.Close()
	}, extra)
}
