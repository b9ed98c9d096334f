package verbs

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/attribution"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
)

// filesVerb writes an image's files document (output group `files`) from its layers'
// metadata, package facts and listings.
func filesVerb(args []string) error {
	var specJSON, out string
	fs := newFlags("files")
	fs.StringVar(&specJSON, "spec-json", "", `the layers, bottom first, as JSON: {"layers": [{"metadata", "label", "facts": [...], "listing"} or {"extern", "base"}]}`)
	fs.StringVar(&out, "out", "", "output: the files document (JSON, one path per line)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("spec-json", specJSON, "out", out); err != nil {
		return err
	}
	spec, err := attribution.ParseSpec(specJSON)
	if err != nil {
		return err
	}
	layers, err := spec.Load()
	if err != nil {
		return err
	}
	doc, err := attribution.Build(layers)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := doc.Write(&buf); err != nil {
		return err
	}
	return atomicfile.WriteFile(out, buf.Bytes())
}

// explainVerb prints which layer, package or label put each path in an image, and what
// it replaced (`bazel run :image.explain -- PATH...`).
func explainVerb(args []string, log io.Writer) error {
	var files, image string
	fs := newFlags("explain")
	fs.StringVar(&files, "files", "", "the image's files document (output group `files`)")
	fs.StringVar(&image, "image", "", "the image's label, for messages")
	if err := parseFlags(fs, args, log); err != nil {
		return err
	}
	if err := cli.Require("files", files); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("explain: name at least one path of the image, e.g. /etc/os-release")
	}
	doc, err := attribution.ReadDocument(files)
	if err != nil {
		return err
	}
	if err := doc.Explain(log, fs.Args()); err != nil {
		return fmt.Errorf("%s:\n%w", image, err)
	}
	return nil
}
