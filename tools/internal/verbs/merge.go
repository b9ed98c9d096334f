package verbs

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	pathpkg "path"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// mergeVerb joins APK data-member layers into one, in install order: entries are copied
// with their headers (PAX records included), each input's end-of-archive blocks are dropped,
// and each path appears once: a file as the last package has it (as a later layer would
// win), a directory as the first package has it (apk keeps an existing directory). Which
// entry survives is decided from the packages' facts, so each input is read once.
func mergeVerb(args []string) error {
	var inputs, factsFiles cli.Strings
	var blobOut, metaOut, createdBy string
	fs := newFlags("merge-layers")
	fs.Var(&inputs, "layer", "BLOB=METADATA of a package's data member layer, bottom first (repeatable)")
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
	return writeLayer(blobOut, metaOut, layer.Gzip, -1, createdBy, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		for i, in := range inputs {
			path, _, _ := strings.Cut(in, "=")
			if err := copyEntries(tw, path, func(name string) bool { return keep[name] == i }); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		return tw.Close()
	})
}

func copyEntries(tw *tar.Writer, path string, keep func(string) bool) error {
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
		if name := pathpkg.Clean(strings.TrimPrefix(h.Name, "./")); name == "." || !keep(name) {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
}
