package verbs

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk"
	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/rootfs"
)

// maxAccountsFile bounds a package's /etc/passwd or /etc/group read into memory.
const maxAccountsFile = 16 << 20

// dbLabel names the apk database layer in errors.
const dbLabel = "the apk database layer"

// apkoLayerVerb writes the layer apko's accounts and paths produce on top of the packages
// and the apk database layer. The filesystem is modelled from the packages' facts; only the
// content of package files the layer must restate (/etc/passwd, /etc/group, files whose
// mode or owner `paths` changes) is read, streaming, from the packages' data layers.
func apkoLayerVerb(args []string) error {
	var factsFiles, dataFiles cli.Strings
	var configPath, database, arch, blobOut, metaOut, userOut string
	fs := newFlags("apko-layer")
	fs.StringVar(&configPath, "config", "", "apko.yaml")
	fs.Var(&factsFiles, "facts", "package facts JSON from apk-extract, in install order (repeatable)")
	fs.Var(&dataFiles, "data", "the package's data layer blob, in the order of --facts (repeatable)")
	fs.StringVar(&database, "database", "", "the apk database layer blob (apk-installdb) of the same packages")
	fs.StringVar(&arch, "arch", "", "APK architecture of the packages")
	fs.StringVar(&blobOut, "blob", "", "output: the layer blob")
	fs.StringVar(&metaOut, "metadata", "", "output: layer metadata JSON")
	fs.StringVar(&userOut, "user", "", "output: the image's user (accounts.run-as, a name resolved to its uid); empty when not set")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("config", configPath, "database", database, "arch", arch, "blob", blobOut, "metadata", metaOut, "user", userOut); err != nil {
		return err
	}
	if len(factsFiles) != len(dataFiles) {
		return fmt.Errorf("%d --facts but %d --data", len(factsFiles), len(dataFiles))
	}
	cfg, err := apkoconfig.Load(configPath)
	if err != nil {
		return err
	}
	if err := checkArch(cfg, configPath, arch); err != nil {
		return err
	}
	pkgs, err := readInstalled(factsFiles, arch)
	if err != nil {
		return err
	}
	root, err := modelRootfs(pkgs, database)
	if err != nil {
		return err
	}
	// Content sources: the packages' data layers, then the database layer.
	dataFiles = append(dataFiles, database)
	labels := make([]string, len(pkgs), len(pkgs)+1)
	for i, p := range pkgs {
		labels[i] = "package " + p.Info.Name + "-" + p.Info.Version
	}
	labels = append(labels, dbLabel)
	read := func(n *rootfs.Node) ([]byte, error) {
		var data []byte
		err := scanMembers(dataFiles[n.Origin.Pkg], map[string]bool{n.Origin.Member: true}, func(name string, h *tar.Header, r io.Reader) error {
			if h.Size > maxAccountsFile {
				return fmt.Errorf("/%s is %d bytes (more than %d)", name, h.Size, maxAccountsFile)
			}
			b, err := io.ReadAll(r)
			data = b
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", labels[n.Origin.Pkg], err)
		}
		if data == nil {
			return nil, fmt.Errorf("%s: /%s is not in its data layer %s", labels[n.Origin.Pkg], n.Origin.Member, dataFiles[n.Origin.Pkg])
		}
		return data, nil
	}
	user, err := root.ApplyAccounts(cfg.Accounts, read)
	if err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	if err := root.ApplyPaths(cfg.Paths); err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	entries := root.Changed()

	// Content of package files the layer restates: one streaming pass per package that
	// has any, into temporary files, so the layer can be written in path order.
	need := map[int]map[string]bool{}
	for _, e := range entries {
		if err := e.Check(); err != nil {
			return fmt.Errorf("%s: %w", configPath, err)
		}
		if e.NeedsContent() {
			o := e.Node.Origin
			if need[o.Pkg] == nil {
				need[o.Pkg] = map[string]bool{}
			}
			need[o.Pkg][o.Member] = true
		}
	}
	tmp, err := os.MkdirTemp("", "wharf-apko-layer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	type copied struct {
		file string
		size int64
	}
	type member struct {
		pkg  int
		name string
	}
	contents := map[member]copied{}
	var pkgIdx []int
	for i := range need {
		pkgIdx = append(pkgIdx, i)
	}
	sort.Ints(pkgIdx)
	for _, i := range pkgIdx {
		err := scanMembers(dataFiles[i], need[i], func(name string, h *tar.Header, r io.Reader) error {
			f, err := os.CreateTemp(tmp, "content-")
			if err != nil {
				return err
			}
			n, err := io.Copy(f, r)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			contents[member{i, name}] = copied{f.Name(), n}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", labels[i], err)
		}
	}
	content := func(e rootfs.Entry) (io.ReadCloser, int64, error) {
		c, ok := contents[member{e.Node.Origin.Pkg, e.Node.Origin.Member}]
		if !ok {
			return nil, 0, fmt.Errorf("%s: /%s is not in its data layer", e.Node.Origin.Label, e.Node.Origin.Member)
		}
		f, err := os.Open(c.file)
		return f, c.size, err
	}
	createdBy := fmt.Sprintf("apko accounts and paths (%s)", filepath.Base(configPath))
	return writeLayerAnd(blobOut, metaOut, layer.Gzip, -1, createdBy, func(w io.Writer) error {
		return rootfs.WriteTar(w, entries, layer.Epoch, content)
	}, map[string][]byte{userOut: []byte(user)})
}

// checkArch refuses to build for an architecture the configuration does not list.
func checkArch(cfg *apkoconfig.Config, configPath, arch string) error {
	if len(cfg.Archs) == 0 {
		return nil
	}
	var names []string
	for _, a := range cfg.Archs {
		if a.APK() == arch {
			return nil
		}
		names = append(names, a.APK())
	}
	return fmt.Errorf("%s: archs lists %s, not %s (the target platform's)", configPath, strings.Join(names, ", "), arch)
}

// modelRootfs builds the filesystem the package layers and the apk database layer make:
// the base layout and every package's owned entries from the facts, then the database
// layer's files, devices and symlinks from the layer.
func modelRootfs(pkgs []*apk.Installed, database string) (*rootfs.FS, error) {
	res, err := apk.Install(pkgs, baseDirs)
	if err != nil {
		return nil, err
	}
	fsys := rootfs.New()
	var dirs []string
	for d := range res.Dirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		m := res.Dirs[d]
		mode := m.Mode
		if mode == 0 {
			mode = 0o755
		}
		fsys.Add(d, &rootfs.Node{Kind: rootfs.Dir, Mode: mode, UID: m.UID, GID: m.GID, Origin: rootfs.Origin{Pkg: -1}})
	}
	for i, owned := range res.Owned {
		label := "package " + pkgs[i].Info.Name + "-" + pkgs[i].Info.Version
		var links []apk.Entry
		for _, e := range owned {
			n := &rootfs.Node{Mode: e.Mode, UID: e.UID, GID: e.GID, Origin: rootfs.Origin{Pkg: -1, Label: label}}
			switch e.Type {
			case "dir":
				continue // in res.Dirs, with the first creator's metadata
			case "file":
				n.Kind, n.Origin.Pkg, n.Origin.Member, n.Size = rootfs.File, i, e.Path, e.Size
			case "symlink":
				n.Kind, n.Link, n.Mode = rootfs.Symlink, e.Linkname, 0o777
			case "hardlink":
				links = append(links, e)
				continue
			default:
				n.Kind = rootfs.Other
			}
			fsys.Add(e.Path, n)
		}
		for _, e := range links {
			if !fsys.Link(e.Path, e.Linkname) {
				return nil, fmt.Errorf("%s: hard link /%s to /%s, which is no file", label, e.Path, e.Linkname)
			}
		}
	}
	// The apk database layer is above the packages: its files (installed db, /etc/apk/*,
	// devices, lib/apk) come from the layer itself; its directories restate res.Dirs.
	if err := addDatabaseLayer(fsys, database, len(pkgs)); err != nil {
		return nil, err
	}
	return fsys, nil
}

// addDatabaseLayer adds the non-directory entries of the apk database layer; their content
// is member Member of data file index idx.
func addDatabaseLayer(fsys *rootfs.FS, blob string, idx int) error {
	f, err := os.Open(blob)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("apk database layer %s: %w", blob, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("apk database layer %s: %w", blob, err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." || strings.HasPrefix(name, "../") || path.IsAbs(name) {
			return fmt.Errorf("apk database layer %s: bad entry %q", blob, h.Name)
		}
		n := &rootfs.Node{Mode: h.Mode & 0o7777, UID: h.Uid, GID: h.Gid, Origin: rootfs.Origin{Pkg: -1, Label: dbLabel}}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg, tar.TypeRegA:
			n.Kind, n.Origin.Pkg, n.Origin.Member, n.Size = rootfs.File, idx, name, h.Size
		case tar.TypeSymlink:
			n.Kind, n.Link = rootfs.Symlink, h.Linkname
		case tar.TypeChar:
			n.Kind, n.Dev = rootfs.CharDevice, [2]int64{h.Devmajor, h.Devminor}
		default:
			n.Kind = rootfs.Other
		}
		fsys.Add(name, n)
	}
}

// scanMembers streams a gzip tar data layer and calls fn for each regular file whose clean
// name is in want, stopping once all were seen.
func scanMembers(blob string, want map[string]bool, fn func(name string, h *tar.Header, r io.Reader) error) error {
	f, err := os.Open(blob)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", blob, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	left := len(want)
	for left > 0 {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", blob, err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if !want[name] || (h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA) {
			continue
		}
		if err := fn(name, h, tr); err != nil {
			return err
		}
		left--
	}
	return nil
}
