package verbs

import (
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// layoutFilesVerb turns the files of an OCI layout (as oci_pull downloads them into
// repositories) into one layout directory output. Blobs are hard-linked when the file system
// allows, else copied. It checks what it publishes: index.json and every manifest, index and
// config it references must be present with their digest, every layer present (unless
// --shallow) with its size.
func layoutFilesVerb(args []string) error {
	var out string
	var in oci.LayoutFiles
	var roots, files cli.Strings
	fs := newFlags("layout-files")
	fs.Var(&roots, "root", "directory the files are in; the first holds index.json, others layer blobs (repeatable)")
	fs.Var(&files, "file", "a file under a --root (repeatable)")
	fs.BoolVar(&in.Shallow, "shallow", false, "layer blobs may be absent (oci.pull fetches them only for outputs that need their bytes)")
	fs.StringVar(&out, "out", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("out", out); err != nil {
		return err
	}
	if len(roots) == 0 {
		return cli.Require("root", "")
	}
	in.Roots, in.Files = roots, files
	return oci.WriteLayoutFiles(in, out)
}
