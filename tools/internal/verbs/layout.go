package verbs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

func layoutVerb(args []string) error {
	var layers cli.Strings
	var descriptorPath, manifestPath, configPath, refName, out string
	fs := newFlags("layout")
	fs.StringVar(&descriptorPath, "descriptor", "", "manifest descriptor JSON")
	fs.StringVar(&manifestPath, "manifest", "", "manifest JSON")
	fs.StringVar(&configPath, "config", "", "config JSON")
	fs.Var(&layers, "layer", "BLOB=METADATA (repeatable)")
	fs.StringVar(&refName, "ref-name", "", "org.opencontainers.image.ref.name of the image in index.json")
	fs.StringVar(&out, "out", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("descriptor", descriptorPath, "manifest", manifestPath, "config", configPath, "out", out); err != nil {
		return err
	}
	desc, err := readDescriptor(descriptorPath)
	if err != nil {
		return err
	}
	var blobs []oci.Blob
	for _, p := range []string{manifestPath, configPath} {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		blobs = append(blobs, oci.Blob{Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}, Path: p})
	}
	if blobs[0].Digest != desc.Digest {
		return fmt.Errorf("manifest %s has digest %s, descriptor says %s", manifestPath, blobs[0].Digest, desc.Digest)
	}
	for _, l := range layers {
		blob, meta, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("--layer %q: want BLOB=METADATA", l)
		}
		m, err := layer.ReadMetadata(meta)
		if err != nil {
			return err
		}
		d, err := v1.NewHash(m.Digest)
		if err != nil {
			return err
		}
		blobs = append(blobs, oci.Blob{Digest: d, Path: blob})
	}
	if err := oci.WriteLayout(out, desc, refName, blobs); err != nil {
		os.RemoveAll(out)
		return err
	}
	return nil
}
