package oci

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
)

// LayoutFiles is what WriteLayoutFiles places: the files of an OCI layout as oci_pull
// downloads them into repositories.
type LayoutFiles struct {
	// Roots are the directories the files are under; the first holds index.json (the
	// metadata repository), others hold layer blobs (the layers repository).
	Roots []string
	Files []string
	// Shallow allows layer blobs to be absent: oci.pull fetches them only for outputs that
	// need their bytes. Indexes, manifests and configs must still be there.
	Shallow bool
}

// WriteLayoutFiles turns the files of an OCI layout into one layout directory out. Blobs are
// hard-linked when the file system allows, else copied. It checks what it publishes:
// index.json and every manifest, index and config it references must be present with their
// digest, every layer present (unless Shallow) with its size.
func WriteLayoutFiles(in LayoutFiles, out string) error {
	if len(in.Roots) == 0 {
		return fmt.Errorf("no root")
	}
	root := in.Roots[0]
	rels := map[string]string{}
	for _, f := range in.Files {
		rel, err := layoutRel(in.Roots, f)
		if err != nil {
			return err
		}
		rels[rel] = f
	}
	for _, need := range []string{"index.json", "oci-layout"} {
		if rels[need] == "" {
			return fmt.Errorf("layout %s has no %s", root, need)
		}
	}
	if err := checkLayoutFiles(root, rels, in.Shallow); err != nil {
		return fmt.Errorf("layout %s: %w", root, err)
	}
	d, err := atomicfile.CreateDir(out)
	if err != nil {
		return err
	}
	defer d.Abort()
	for rel, src := range rels {
		if err := linkOrCopy(src, filepath.Join(d.Path, rel)); err != nil {
			return err
		}
	}
	return d.Commit()
}

// layoutRel is f's path relative to the root it is under, which must be a layout's file.
func layoutRel(roots []string, f string) (string, error) {
	for _, root := range roots {
		rel, ok := strings.CutPrefix(f, root+"/")
		if !ok {
			continue
		}
		if rel == "" || strings.Contains("/"+rel+"/", "/../") {
			break
		}
		if rel != "index.json" && rel != "oci-layout" && !strings.HasPrefix(rel, "blobs/sha256/") {
			return "", fmt.Errorf("file %s: not part of an OCI layout", f)
		}
		return rel, nil
	}
	return "", fmt.Errorf("file %s is not under %s", f, strings.Join(roots, " or "))
}

// checkLayoutFiles walks index.json: nested indexes, manifests and configs must match their
// digests, layers their sizes, and no blob may be missing (but layers, when shallow).
func checkLayoutFiles(root string, rels map[string]string, shallow bool) error {
	idx, err := os.ReadFile(rels["index.json"])
	if err != nil {
		return err
	}
	return layoutFiles{root, rels, shallow}.visit(idx, 0)
}

// layoutFiles are the files of a layout under root, by their path relative to it.
type layoutFiles struct {
	root    string
	rels    map[string]string
	shallow bool
}

// blob is the file of a descriptor's blob.
func (l layoutFiles) blob(d v1.Descriptor) (string, error) {
	if d.Digest.Algorithm != "sha256" {
		return "", fmt.Errorf("blob %s: only sha256 is supported", d.Digest)
	}
	p := l.rels["blobs/sha256/"+d.Digest.Hex]
	if p == "" {
		return "", fmt.Errorf("blob %s (%s) is missing", d.Digest, d.MediaType)
	}
	return p, nil
}

// visit checks an index's entries and, up to 4 deep, its child indexes.
func (l layoutFiles) visit(b []byte, depth int) error {
	im, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		if _, err := l.blob(d); err != nil {
			return err
		}
		mb, err := ReadBlob(l.root, d.Digest)
		if err != nil {
			return err
		}
		switch {
		case d.MediaType.IsIndex():
			if depth >= 4 {
				return fmt.Errorf("index %s: indexes nested too deep", d.Digest)
			}
			if err := l.visit(mb, depth+1); err != nil {
				return err
			}
		case d.MediaType.IsImage():
			if err := l.image(d.Digest, mb); err != nil {
				return err
			}
		default:
			return fmt.Errorf("descriptor %s has media type %q, neither an image nor an index", d.Digest, d.MediaType)
		}
	}
	return nil
}

// image checks a manifest's config (present, its digest) and layers (present, their size).
func (l layoutFiles) image(digest v1.Hash, mb []byte) error {
	m, err := v1.ParseManifest(bytes.NewReader(mb))
	if err != nil {
		return fmt.Errorf("manifest %s: %w", digest, err)
	}
	if _, err := l.blob(m.Config); err != nil {
		return fmt.Errorf("manifest %s: config: %w", digest, err)
	}
	if _, err := ReadBlob(l.root, m.Config.Digest); err != nil {
		return fmt.Errorf("manifest %s: config: %w", digest, err)
	}
	for i, layer := range m.Layers {
		if l.shallow && l.rels["blobs/sha256/"+layer.Digest.Hex] == "" {
			continue
		}
		p, err := l.blob(layer)
		if err != nil {
			return fmt.Errorf("manifest %s: layer %d: %w", digest, i, err)
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Size() != layer.Size {
			return fmt.Errorf("manifest %s: layer %d (%s) has %d bytes, the manifest says %d", digest, i, layer.Digest, st.Size(), layer.Size)
		}
	}
	return nil
}

// linkOrCopy hard-links the file src resolves to at dst, or copies it.
func linkOrCopy(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	if os.Link(real, dst) == nil {
		return nil
	}
	return CopyFile(src, dst)
}
