package verbs

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// mergeVerb joins gzip tar layers into one, in order: entries are copied with their headers
// (PAX records included), each input's end-of-archive blocks are dropped, and a later entry
// for the same path stays after an earlier one, so extraction ends as stacking would.
func mergeVerb(args []string) error {
	var inputs cli.Strings
	var blobOut, metaOut, createdBy string
	fs := newFlags("merge-layers")
	fs.Var(&inputs, "layer", "BLOB=METADATA of a gzip layer, bottom first (repeatable)")
	fs.StringVar(&blobOut, "blob", "", "output: the merged layer")
	fs.StringVar(&metaOut, "metadata", "", "output: its metadata JSON")
	fs.StringVar(&createdBy, "created-by", "", "history entry text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("blob", blobOut, "metadata", metaOut); err != nil {
		return err
	}
	var outs atomicfile.Set
	defer outs.Abort()
	blob, err := outs.Create(blobOut)
	if err != nil {
		return err
	}
	w, err := layer.NewWriter(blob, layer.Gzip, -1)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, in := range inputs {
		path, _, _ := strings.Cut(in, "=")
		if err := copyEntries(tw, path); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	meta, err := w.Close()
	if err != nil {
		return err
	}
	meta.CreatedBy = createdBy
	if err := outs.WriteFile(metaOut, meta.Marshal()); err != nil {
		return err
	}
	return outs.Commit()
}

func copyEntries(tw *tar.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
}
