package verbs

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/flate"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/installer"
	"github.com/rules-wharf/rules_wharf/tools/internal/attribution"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/gzsplice"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// mergeVerb joins APK data-member layers into one, in install order, mostly without
// recompressing them (gzsplice): each path appears once, a file as the last package has it
// (as a later layer would win), a directory as the first package has it (apk keeps an
// existing directory); each input's end-of-archive is dropped. Deflate blocks are copied
// bit for bit unless they hold a dropped entry or the end-of-archive (or refer back over
// one), which are decoded and encoded again. Which entry survives is decided from the
// packages' facts. A hardlink whose target a later package replaces takes over its
// target's entry (see orphanedLinks); global PAX headers are left out (gzsplice.Join).
// With --stack the layers are whole layers without facts (the apk database layer and an
// apko.yaml's layer: origin layering's top layer), joined as a runtime stacks them.
func mergeVerb(args []string) error {
	var inputs, factsFiles cli.Strings
	fs := newFlags("merge-layers")
	fs.Var(&inputs, "layer", "BLOB=METADATA of a gzip layer (a package's data member), bottom first (repeatable)")
	fs.Var(&factsFiles, "facts", "the package facts of each --layer, in the same order (repeatable)")
	stack := fs.Bool("stack", false, "the layers are whole layers, no --facts: a later entry replaces every earlier one of its path (writes --listing)")
	out := newLayerOutputs(fs, "output: the merged layer")
	out.createdByFlag(fs)
	out.listingFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("blob", out.blob, "metadata", out.metadata); err != nil {
		return err
	}
	if *stack {
		return stackLayers(inputs, factsFiles, out)
	}
	if out.listing != "" {
		return fmt.Errorf("--listing is for --stack: the packages' facts list a merge of packages")
	}
	if len(factsFiles) != len(inputs) {
		return fmt.Errorf("%d --facts for %d --layer", len(factsFiles), len(inputs))
	}
	files := make([][]apkfile.Entry, len(factsFiles))
	for i, f := range factsFiles {
		facts, err := apkfile.ReadFacts(f)
		if err != nil {
			return err
		}
		files[i] = facts.Files
	}
	blobs, err := gzipBlobs(inputs)
	if err != nil {
		return err
	}
	return out.publish(func(f io.Writer) (*layer.Metadata, error) {
		return joinGzip(f, installer.MergeInputs(blobs, files))
	}, nil)
}

// stackLayers joins whole layers (--stack) as gzsplice.StackInputs does, and lists the
// result from the inputs' entries.
func stackLayers(inputs, factsFiles []string, out *layerOutputs) error {
	if len(factsFiles) > 0 || out.listing == "" {
		return fmt.Errorf("--stack takes no --facts and needs --listing")
	}
	blobs, err := gzipBlobs(inputs)
	if err != nil {
		return err
	}
	layers := make([]gzsplice.StackLayer, len(blobs))
	entries := make([][]apkfile.Entry, len(blobs))
	for i, b := range blobs {
		if entries[i], err = attribution.ListArchive(b); err != nil {
			return err
		}
		layers[i] = gzsplice.StackLayer{Path: b, Linkto: map[string]string{}}
		for _, e := range entries[i] {
			layers[i].Names = append(layers[i].Names, e.Path)
			if e.Type == "hardlink" {
				layers[i].Linkto[e.Path] = e.Linkname
			}
		}
	}
	ins, err := gzsplice.StackInputs(layers)
	if err != nil {
		return err
	}
	var listing []apkfile.Entry
	for i, es := range entries {
		for _, e := range es {
			if !ins[i].Drop(e.Path) {
				listing = append(listing, e)
			}
		}
	}
	return out.publish(func(f io.Writer) (*layer.Metadata, error) {
		return joinGzip(f, ins)
	}, map[string][]byte{out.listing: attribution.MarshalListing(listing)})
}

// joinGzip joins inputs into the blob f and returns the layer's metadata.
func joinGzip(f io.Writer, ins []gzsplice.Input) (*layer.Metadata, error) {
	blob := layer.NewBlobWriter(f)
	res, err := gzsplice.Join(blob, ins, flate.DefaultCompression)
	if err != nil {
		return nil, err
	}
	return &layer.Metadata{MediaType: layer.MediaTypeGzip, Digest: blob.Digest(), Size: blob.Size(),
		DiffID: "sha256:" + hex.EncodeToString(res.DiffID)}, nil
}

// gzipBlobs reads BLOB=METADATA values and returns the blobs, refusing layers not gzip.
func gzipBlobs(values []string) ([]string, error) {
	var blobs []string
	for _, in := range values {
		blob, metaPath, ok := strings.Cut(in, "=")
		if !ok {
			return nil, fmt.Errorf("--layer %q: want BLOB=METADATA", in)
		}
		meta, err := layer.ReadMetadata(metaPath)
		if err != nil {
			return nil, err
		}
		if meta.MediaType != layer.MediaTypeGzip {
			return nil, fmt.Errorf("%s: media type %s: only gzip layers can be merged", blob, meta.MediaType)
		}
		blobs = append(blobs, blob)
	}
	return blobs, nil
}
