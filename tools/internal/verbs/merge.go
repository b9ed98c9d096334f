package verbs

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
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
// packages' facts.
func mergeVerb(args []string) error {
	var inputs, factsFiles cli.Strings
	var blobOut, metaOut, createdBy string
	fs := newFlags("merge-layers")
	fs.Var(&inputs, "layer", "BLOB=METADATA of a gzip layer (a package's data member), bottom first (repeatable)")
	fs.Var(&factsFiles, "facts", "the package facts of each --layer, in the same order (repeatable)")
	fs.StringVar(&blobOut, "blob", "", "output: the merged layer")
	fs.StringVar(&metaOut, "metadata", "", "output: its metadata JSON")
	fs.StringVar(&createdBy, "created-by", "", "history entry text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("blob", blobOut, "metadata", metaOut); err != nil {
		return err
	}
	if len(factsFiles) != len(inputs) {
		return fmt.Errorf("%d --facts for %d --layer", len(factsFiles), len(inputs))
	}
	keep := map[string]int{} // path -> index of the input whose entry survives
	for i, f := range factsFiles {
		facts, err := readFacts(f)
		if err != nil {
			return err
		}
		for _, e := range facts.Files {
			if _, seen := keep[e.Path]; e.Type != "dir" || !seen {
				keep[e.Path] = i
			}
		}
	}
	var ins []gzsplice.Input
	for i, in := range inputs {
		blob, metaPath, ok := strings.Cut(in, "=")
		if !ok {
			return fmt.Errorf("--layer %q: want BLOB=METADATA", in)
		}
		meta, err := layer.ReadMetadata(metaPath)
		if err != nil {
			return err
		}
		if meta.MediaType != layer.MediaTypeGzip {
			return fmt.Errorf("%s: media type %s: only gzip layers can be merged", blob, meta.MediaType)
		}
		ins = append(ins, gzsplice.Input{Path: blob, Drop: func(name string) bool { return name == "." || keep[name] != i }})
	}
	var outs atomicfile.Set
	defer outs.Abort()
	f, err := outs.Create(blobOut)
	if err != nil {
		return err
	}
	blob := layer.NewBlobWriter(f)
	res, err := gzsplice.Join(blob, ins, flate.DefaultCompression)
	if err != nil {
		return err
	}
	meta := &layer.Metadata{
		MediaType: layer.MediaTypeGzip,
		Digest:    blob.Digest(),
		Size:      blob.Size(),
		DiffID:    "sha256:" + hex.EncodeToString(res.DiffID),
		CreatedBy: createdBy,
	}
	if err := outs.WriteFile(metaOut, meta.Marshal()); err != nil {
		return err
	}
	return outs.Commit()
}
