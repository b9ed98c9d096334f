package verbs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/installer"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

func installdbVerb(args []string, log io.Writer) error {
	var factsFiles, keys, repos cli.Strings
	var arch string
	fs := newFlags("apk-installdb")
	fs.Var(&factsFiles, "package", "package facts JSON from apk-extract, in install order (repeatable)")
	fs.Var(&keys, "key", "keyring file to install under /etc/apk/keys (repeatable)")
	fs.Var(&repos, "repository", "line of /etc/apk/repositories (repeatable)")
	fs.StringVar(&arch, "arch", "", "APK architecture (/etc/apk/arch)")
	out := newLayerOutputs(fs, "output: the layer blob")
	out.listingFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("arch", arch, "blob", out.blob, "metadata", out.metadata); err != nil {
		return err
	}
	pkgs, err := installer.ReadInstalled(factsFiles, arch)
	if err != nil {
		return err
	}
	keyFiles := map[string][]byte{}
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			return err
		}
		keyFiles[filepath.Base(k)] = b
	}
	entries, err := installer.DatabaseLayer(pkgs, arch, repos, keyFiles)
	if err != nil {
		return err
	}
	out.createdBy = fmt.Sprintf("apk database (%d packages)", len(pkgs))
	if err := out.writeTar(func(w io.Writer) error {
		return layer.WriteTar(w, entries, layer.Epoch)
	}, nil); err != nil {
		return err
	}
	// Bazel shows a successful action's output as a build message.
	for _, s := range installer.UnrunScripts(pkgs) {
		fmt.Fprintf(log, "install scripts not run (rules_wharf runs nothing at build time): %s\n", s)
	}
	return nil
}
