package verbs

import (
	"encoding/hex"
	"flag"
	"fmt"
	"io"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// lockedFlags declares the flags that say what the lock gives about one package.
func lockedFlags(fs *flag.FlagSet, a *apkfile.Locked, partHelp string) {
	fs.StringVar(&a.Name, "name", "", "package name (from the lock)")
	fs.StringVar(&a.Version, "version", "", "package version (from the lock)")
	fs.StringVar(&a.Arch, "arch", "", "package architecture (from the lock)")
	fs.Var((*cli.Strings)(&a.Parts), "part", partHelp)
	fs.StringVar(&a.ControlChecksum, "control-checksum", "", "lock's control checksum (sha1-…)")
	fs.StringVar(&a.DataChecksum, "data-checksum", "", "lock's data checksum (sha256-…)")
}

func apkExtract(args []string) error {
	var a apkfile.Locked
	var factsOut string
	fs := newFlags("apk-extract")
	lockedFlags(fs, &a, "file holding the next bytes of the package (repeatable)")
	out := newLayerOutputs(fs, "output: the data member (the layer blob); without it the last --part must be exactly the data member, which then is the blob")
	fs.StringVar(&factsOut, "facts", "", "output: package facts JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("name", a.Name, "version", a.Version, "arch", a.Arch, "metadata", out.metadata, "facts", factsOut); err != nil {
		return err
	}
	out.createdBy = fmt.Sprintf("apk %s-%s", a.Name, a.Version)
	extra := map[string][]byte{} // the facts, once Extract has read them
	// A nil blob (no --blob): the last part is the blob; nothing is copied.
	return out.publish(func(blob io.Writer) (*layer.Metadata, error) {
		facts, data, err := a.Extract(blob)
		if err != nil {
			return nil, err
		}
		extra[factsOut] = facts.Marshal()
		return &layer.Metadata{
			MediaType: layer.MediaTypeGzip,
			Digest:    "sha256:" + hex.EncodeToString(data.SHA256),
			Size:      data.Size,
			DiffID:    "sha256:" + hex.EncodeToString(data.DiffID),
			Annotations: map[string]string{
				"dev.rules-wharf.apk.package": a.Name + "=" + a.Version,
			},
		}, nil
	}, extra)
}
