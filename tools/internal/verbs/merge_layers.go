package verbs

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/flate"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/installer"
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
func mergeVerb(args []string) error {
	var inputs, factsFiles cli.Strings
	fs := newFlags("merge-layers")
	fs.Var(&inputs, "layer", "BLOB=METADATA of a gzip layer (a package's data member), bottom first (repeatable)")
	fs.Var(&factsFiles, "facts", "the package facts of each --layer, in the same order (repeatable)")
	out := newLayerOutputs(fs, "output: the merged layer")
	out.createdByFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("blob", out.blob, "metadata", out.metadata); err != nil {
		return err
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
		blob := layer.NewBlobWriter(f)
		res, err := gzsplice.Join(blob, installer.MergeInputs(blobs, files), flate.DefaultCompression)
		if err != nil {
			return nil, err
		}
		return &layer.Metadata{MediaType: layer.MediaTypeGzip, Digest: blob.Digest(), Size: blob.Size(),
			DiffID: "sha256:" + hex.EncodeToString(res.DiffID)}, nil
	}, nil)
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
