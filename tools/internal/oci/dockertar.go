package oci

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/stamp"
)

// ContainerdNameAnnotation names an image in an archive's index.json for containerd
// (ctr images import, nerdctl load, docker with the containerd image store) and podman,
// which all prefer it to the ref.name annotation.
const ContainerdNameAnnotation = "io.containerd.image.name"

// DockerTar is an image as `docker load`, `podman load`, `nerdctl load` and `ctr images
// import` take it.
type DockerTar struct {
	Config []byte
	// Manifest and Descriptor, when set, make the tarball an OCI layout too (as `docker
	// save` writes since Docker 25): runtimes that read index.json keep the manifest as
	// built, so the loaded image's manifest digest is the build's.
	Manifest   []byte
	Descriptor *v1.Descriptor
	Tags       []name.Tag
	Layers     []LayerFile
}

// FullName is the tag as containerd stores it: docker.io/library/app:1 for app:1.
func FullName(t name.Tag) string {
	reg := t.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + t.RepositoryStr() + ":" + t.TagStr()
}

// LoadTags expands a load's tags: {KEY} placeholders from status when stamping (status not
// nil); without stamping a tag with a placeholder is left out and returned in unstamped.
func LoadTags(tags []string, status map[string]string) (loaded []name.Tag, unstamped []string, err error) {
	seen := map[string]bool{}
	for _, t := range tags {
		s := t
		if status == nil && stamp.Has(t) {
			unstamped = append(unstamped, t)
			continue
		}
		if status != nil {
			if s, err = stamp.Expand(t, status); err != nil {
				return nil, nil, fmt.Errorf("tag %q: %w", t, err)
			}
		}
		tag, err := name.NewTag(s)
		if err != nil {
			return nil, nil, fmt.Errorf("tag %q is not repository:tag: %w", s, err)
		}
		if !seen[FullName(tag)] {
			seen[FullName(tag)] = true
			loaded = append(loaded, tag)
		}
	}
	return loaded, unstamped, nil
}

// WriteDockerTar writes d to w, streaming the layer blobs (compressed layers go in as they
// are; every runtime accepts them). manifest.json names every tag; index.json, the first.
func WriteDockerTar(w io.Writer, d DockerTar) error {
	tw := tar.NewWriter(w)
	cfgName := "blobs/sha256/" + Digest(d.Config).Hex
	if err := addTarFile(tw, cfgName, int64(len(d.Config)), bytes.NewReader(d.Config)); err != nil {
		return err
	}
	entries, err := addLayers(tw, d.Layers)
	if err != nil {
		return err
	}
	tags := []string{}
	for _, t := range d.Tags {
		tags = append(tags, t.String())
	}
	if err := addTarJSON(tw, "manifest.json", []map[string]any{{"Config": cfgName, "RepoTags": tags, "Layers": entries}}); err != nil {
		return err
	}
	if d.Descriptor != nil {
		if err := addTarFile(tw, "blobs/sha256/"+d.Descriptor.Digest.Hex, int64(len(d.Manifest)), bytes.NewReader(d.Manifest)); err != nil {
			return err
		}
		if err := addTarJSON(tw, "oci-layout", map[string]string{"imageLayoutVersion": "1.0.0"}); err != nil {
			return err
		}
		if err := addTarJSON(tw, "index.json", archiveIndex(d)); err != nil {
			return err
		}
	}
	return tw.Close()
}

// archiveIndex is the archive's index.json: the manifest once, named by the first tag.
func archiveIndex(d DockerTar) v1.IndexManifest {
	desc := *d.Descriptor
	if len(d.Tags) > 0 {
		desc.Annotations = map[string]string{ContainerdNameAnnotation: FullName(d.Tags[0]), RefNameAnnotation: d.Tags[0].TagStr()}
	}
	return v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{desc}}
}

// addLayers writes each layer blob once and returns the manifest.json entries, bottom first.
func addLayers(tw *tar.Writer, layers []LayerFile) ([]string, error) {
	entries := []string{}
	seen := map[string]bool{}
	for _, e := range layers {
		entry := "blobs/sha256/" + strings.TrimPrefix(e.Meta.Digest, "sha256:")
		entries = append(entries, entry)
		if seen[entry] {
			continue
		}
		seen[entry] = true
		bf, err := e.open()
		if err != nil {
			return nil, err
		}
		err = addTarFile(tw, entry, e.Meta.Size, bf)
		bf.Close()
		if err != nil && e.Open != nil {
			return nil, err // Open's reader names the blob and its source
		}
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.Path, err)
		}
	}
	return entries, nil
}

func addTarJSON(tw *tar.Writer, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return addTarFile(tw, name, int64(len(b)), bytes.NewReader(b))
}

func addTarFile(tw *tar.Writer, name string, size int64, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644, Typeflag: tar.TypeReg, ModTime: layer.Epoch, Format: tar.FormatUSTAR}); err != nil {
		return err
	}
	n, err := io.Copy(tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s: wrote %d bytes, want %d", name, n, size)
	}
	return err
}

// LoadFacts is what oci_load's run script reads about one tarball: the image's platform and
// digests, the tags it loads and those only --stamp expands.
func LoadFacts(d DockerTar, unstamped []string) []byte {
	var b strings.Builder
	cfg := Digest(d.Config)
	fmt.Fprintf(&b, "config %s\n", cfg)
	if d.Descriptor != nil {
		fmt.Fprintf(&b, "manifest %s\n", d.Descriptor.Digest)
		if p := d.Descriptor.Platform; p != nil {
			fmt.Fprintf(&b, "platform %s\n", strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/"))
		}
	}
	for _, t := range d.Tags {
		fmt.Fprintf(&b, "tag %s\n", FullName(t))
	}
	for _, t := range unstamped {
		fmt.Fprintf(&b, "unstamped %s\n", t)
	}
	return []byte(b.String())
}
