package verbs

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// dockerTarVerb writes a `docker load` / `podman load` tarball from an image's config and
// layer blobs, streaming them (compressed layers go in as they are; both tools accept them).
func dockerTarVerb(args []string) error {
	var layers, extern cli.Strings
	var configPath, tag, out string
	fs := newFlags("docker-tar")
	fs.StringVar(&configPath, "config", "", "the image config JSON")
	fs.Var(&layers, "layer", "BLOB=METADATA, bottom first, above any --extern layers (repeatable)")
	fs.Var(&extern, "extern", "LAYERS_JSON=DIR: bottom layers whose blobs are in a layout directory (repeatable)")
	fs.StringVar(&tag, "tag", "", "repository:tag the loaded image gets")
	fs.StringVar(&out, "out", "", "output: the tarball")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("config", configPath, "tag", tag, "out", out); err != nil {
		return err
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	config, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(out)
	if err != nil {
		return err
	}
	defer f.Abort()
	tw := tar.NewWriter(f)
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
	cfgName := "blobs/sha256/" + oci.Digest(config).Hex
	manifest := []map[string]any{{"Config": cfgName, "RepoTags": []string{ref.String()}, "Layers": []string{}}}
	if err := add(cfgName, int64(len(config)), strings.NewReader(string(config))); err != nil {
		return err
	}
	seen := map[string]bool{}
	all, err := readExtern(extern)
	if err != nil {
		return err
	}
	own, err := readLayerArgs(layers)
	if err != nil {
		return err
	}
	for _, e := range append(all, own...) {
		m, blob := e.meta, e.path
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
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Commit()
}
