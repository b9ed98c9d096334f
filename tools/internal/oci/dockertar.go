package oci

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// WriteDockerTar writes a `docker load` / `podman load` tarball of an image (its config and
// layer blobs, bottom first) to w, tagged tag, streaming the blobs (compressed layers go in
// as they are; both tools accept them).
func WriteDockerTar(w io.Writer, config []byte, tag name.Tag, layers []LayerFile) error {
	tw := tar.NewWriter(w)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644, Typeflag: tar.TypeReg, ModTime: layer.Epoch, Format: tar.FormatUSTAR}); err != nil {
			return err
		}
		n, err := io.Copy(tw, r)
		if err == nil && n != size {
			err = fmt.Errorf("%s: wrote %d bytes, want %d", name, n, size)
		}
		return err
	}
	cfgName := "blobs/sha256/" + Digest(config).Hex
	manifest := []map[string]any{{"Config": cfgName, "RepoTags": []string{tag.String()}, "Layers": []string{}}}
	if err := add(cfgName, int64(len(config)), strings.NewReader(string(config))); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range layers {
		m, blob := e.Meta, e.Path
		entry := "blobs/sha256/" + strings.TrimPrefix(m.Digest, "sha256:")
		manifest[0]["Layers"] = append(manifest[0]["Layers"].([]string), entry)
		if seen[entry] {
			continue
		}
		seen[entry] = true
		bf, err := os.Open(blob)
		if err != nil {
			return err
		}
		err = add(entry, m.Size, bf)
		bf.Close()
		if err != nil {
			return fmt.Errorf("layer %s: %w", blob, err)
		}
	}
	mb, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	if err := add("manifest.json", int64(len(mb)), strings.NewReader(string(mb))); err != nil {
		return err
	}
	return tw.Close()
}
