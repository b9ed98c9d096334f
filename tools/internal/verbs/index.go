package verbs

import (
	"encoding/json"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

func indexVerb(args []string) error {
	var manifests, annotations cli.Strings
	var indexOut, descriptorOut, digestOut string
	var st stamping
	fs := newFlags("index")
	st.flags(fs, false)
	fs.Var(&manifests, "manifest", "descriptor JSON of an image manifest, with its platform (repeatable)")
	fs.Var(&annotations, "annotation", "KEY=VALUE index annotation (repeatable)")
	fs.StringVar(&indexOut, "index", "", "output: the image index JSON")
	fs.StringVar(&descriptorOut, "descriptor", "", "output: the index's descriptor JSON")
	fs.StringVar(&digestOut, "digest", "", "output: the index digest")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("index", indexOut, "descriptor", descriptorOut, "digest", digestOut); err != nil {
		return err
	}
	annotations, err := st.indexAnnotations(annotations)
	if err != nil {
		return err
	}
	b, desc, err := oci.BuildIndex(manifests, annotations)
	if err != nil {
		return err
	}
	db, err := json.Marshal(desc)
	if err != nil {
		return err
	}
	var outs atomicfile.Set
	defer outs.Abort()
	// In the order they are published: what describes the others last (atomicfile.Set).
	for _, o := range []struct {
		path string
		data []byte
	}{{indexOut, b}, {digestOut, []byte(desc.Digest.String())}, {descriptorOut, db}} {
		if err := outs.WriteFile(o.path, o.data); err != nil {
			return err
		}
	}
	return outs.Commit()
}
