package verbs

import (
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// layoutFilesVerb turns the files of an OCI layout (as oci_pull downloads them into a
// repository) into one layout directory output. Blobs are hard-linked when the file system
// allows, else copied. It checks what it publishes: index.json and every manifest, index and
// config it references must be present with their digest, every layer present with its size.
func layoutFilesVerb(args []string) error {
	var root, out string
	var files cli.Strings
	fs := newFlags("layout-files")
	fs.StringVar(&root, "root", "", "directory the files are in (holds index.json)")
	fs.Var(&files, "file", "a file under --root (repeatable)")
	fs.StringVar(&out, "out", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("root", root, "out", out); err != nil {
		return err
	}
	return oci.WriteLayoutFiles(root, files, out)
}
