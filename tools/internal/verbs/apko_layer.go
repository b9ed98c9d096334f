package verbs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/installer"
	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/rootfs"
)

// apkoLayerVerb writes the layer apko's accounts, paths, certificates and runtime keys
// produce on top of the packages and the apk database layer. The filesystem is modelled
// from the packages' facts; only the content of package files the layer must restate
// (/etc/passwd, /etc/group, files whose mode or owner `paths` changes, CA bundles and Java
// truststores) is read from the packages' data layers, streaming but for those last two
// (each read whole, at most 16 MiB).
func apkoLayerVerb(args []string) error {
	var factsFiles, dataFiles cli.Strings
	var configPath, database, arch, userOut string
	fs := newFlags("apko-layer")
	fs.StringVar(&configPath, "config", "", "apko.yaml")
	fs.Var(&factsFiles, "facts", "package facts JSON from apk-extract, in install order (repeatable)")
	fs.Var(&dataFiles, "data", "the package's data layer blob, in the order of --facts (repeatable)")
	fs.StringVar(&database, "database", "", "the apk database layer blob (apk-installdb) of the same packages")
	fs.StringVar(&arch, "arch", "", "APK architecture of the packages")
	out := newLayerOutputs(fs, "output: the layer blob")
	out.listingFlag(fs)
	fs.StringVar(&userOut, "user", "", "output: the image's user (accounts.run-as, a name resolved to its uid); empty when not set")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("config", configPath, "database", database, "arch", arch, "blob", out.blob, "metadata", out.metadata, "user", userOut); err != nil {
		return err
	}
	if len(factsFiles) != len(dataFiles) {
		return fmt.Errorf("%d --facts but %d --data", len(factsFiles), len(dataFiles))
	}
	cfg, err := apkoconfig.Load(configPath)
	if err != nil {
		return err
	}
	if err := cfg.CheckArch(arch); err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	pkgs, err := installer.ReadInstalled(factsFiles, arch)
	if err != nil {
		return err
	}
	src := rootfs.NewSources(pkgs, dataFiles, database)
	root, err := src.Model()
	if err != nil {
		return err
	}
	entries, user, err := apkoEntries(root, src, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	tmp, err := os.MkdirTemp("", "wharf-apko-layer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	content, err := src.Contents(entries, tmp)
	if err != nil {
		return err
	}
	out.createdBy = fmt.Sprintf("apko accounts and paths (%s)", filepath.Base(configPath))
	return out.writeTar(func(w io.Writer) error {
		return rootfs.WriteTar(w, entries, layer.Epoch, content)
	}, map[string][]byte{userOut: []byte(user)})
}

// apkoEntries applies the configuration's accounts and paths to the filesystem the
// sources make, and returns what changed and the user run-as resolves to.
func apkoEntries(root *rootfs.FS, src *rootfs.Sources, cfg *apkoconfig.Config) ([]rootfs.Entry, string, error) {
	user, err := root.ApplyAccounts(cfg.Accounts, src.Read)
	if err != nil {
		return nil, "", err
	}
	if err := root.ApplyPaths(cfg.Paths); err != nil {
		return nil, "", err
	}
	// apko's order: certificates, the CA stores' checksums (every image), runtime keys.
	if err := root.ApplyCertificates(cfg.Certificates, src.Pkgs, src.Read, layer.Epoch); err != nil {
		return nil, "", err
	}
	if err := root.WriteBundleChecksums(src.Read); err != nil {
		return nil, "", err
	}
	if err := root.ApplyRuntimeKeyring(cfg.Contents.RuntimeKeyring); err != nil {
		return nil, "", err
	}
	entries := root.Changed()
	for _, e := range entries {
		if err := e.Check(); err != nil {
			return nil, "", err
		}
	}
	return entries, user, nil
}
