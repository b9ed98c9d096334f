package verbs

import (
	"encoding/json"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

func indexVerb(args []string) error {
	var manifests, annotations cli.Strings
	var indexOut, descriptorOut, digestOut string
	fs := newFlags("index")
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
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}
	seen := map[string]string{}
	for _, m := range manifests {
		d, err := readDescriptor(m)
		if err != nil {
			return err
		}
		if d.Platform == nil {
			return fmt.Errorf("manifest %s has no platform", m)
		}
		key := d.Platform.OS + "/" + d.Platform.Architecture + "/" + d.Platform.Variant
		if prev, dup := seen[key]; dup {
			return fmt.Errorf("two images for platform %s (%s and %s)", strings.TrimSuffix(key, "/"), prev, m)
		}
		seen[key] = m
		idx.Manifests = append(idx.Manifests, d)
	}
	for _, a := range annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("--annotation %q: want KEY=VALUE", a)
		}
		if idx.Annotations == nil {
			idx.Annotations = map[string]string{}
		}
		idx.Annotations[k] = v
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	desc := v1.Descriptor{MediaType: types.OCIImageIndex, Size: int64(len(b)), Digest: oci.Digest(b)}
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
