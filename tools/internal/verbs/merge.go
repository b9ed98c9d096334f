package verbs

import (
	"archive/tar"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk"
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
// packages' facts. A hardlink whose target a later package replaces takes over its
// target's entry (see orphanedLinks); global PAX headers are left out (gzsplice.Join).
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
	files := make([][]apk.Entry, len(factsFiles))
	for i, f := range factsFiles {
		facts, err := readFacts(f)
		if err != nil {
			return err
		}
		files[i] = facts.Files
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
		o := orphanedLinks(files[i], i, keep)
		ins = append(ins, gzsplice.Input{Path: blob,
			Drop: func(name string) bool {
				if _, ok := o.renamed[name]; ok {
					return false // the entry stays, as its first orphaned hardlink
				}
				return name == "." || o.heirs[name] || keep[name] != i
			},
			Rewrite: o.rewrite,
		})
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

// orphans says what becomes of one package's hardlinks whose target a later package
// replaces (tar entries by cleaned name).
type orphans struct {
	renamed map[string]string // target file -> the hardlink its entry is renamed to
	heirs   map[string]bool   // those hardlinks: their own entry is dropped
	relinks map[string]string // the target's other orphaned hardlinks -> the heir
}

// orphanedLinks finds the kept hardlinks of input i whose target a later package replaces.
//
// In apk, package b replacing a's file f writes a new file and renames it over f, so a's
// hardlink h to f keeps the old inode: h keeps a's content (and the installed db still has
// h as a's). Dropping a's f entry and keeping h's would leave a hardlink before its
// target in the merged tar, which tar readers cannot unpack ("Cannot hard link"), and
// which would anyway make h b's content. So a's f entry stays where it is, with its data
// and its inode's metadata, renamed to the first such hardlink h (whose own entry is
// dropped); a's other hardlinks to f link to h instead; b's f comes later, under f.
// gzsplice re-encodes the blocks that hold those headers, and the data blocks are copied.
// The renamed entry may come before the entry of h's directory; tar readers and OCI
// runtimes create a missing parent and apply the directory's entry when it comes.
func orphanedLinks(files []apk.Entry, i int, keep map[string]int) *orphans {
	o := &orphans{renamed: map[string]string{}, heirs: map[string]bool{}, relinks: map[string]string{}}
	for _, e := range files {
		if e.Type != "hardlink" || keep[e.Path] != i || keep[e.Linkname] == i {
			continue
		}
		if heir, ok := o.renamed[e.Linkname]; ok {
			o.relinks[e.Path] = heir
		} else {
			o.renamed[e.Linkname] = e.Path
			o.heirs[e.Path] = true
		}
	}
	return o
}

// rewrite gives the new headers of a renamed target and of relinked hardlinks.
func (o *orphans) rewrite(name string, h *tar.Header) *tar.Header {
	if heir, ok := o.renamed[name]; ok {
		h.Name = heir
		return h
	}
	if heir, ok := o.relinks[name]; ok {
		h.Linkname = heir
		return h
	}
	return nil
}
