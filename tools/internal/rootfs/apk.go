package rootfs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/installer"
)

// maxAccountsFile bounds a package's /etc/passwd or /etc/group read into memory.
const maxAccountsFile = 16 << 20

// dbLabel names the apk database layer in errors.
const dbLabel = "the apk database layer"

// Sources are the layers an apk-built filesystem comes from: the packages' data layers,
// in install order, then the apk database layer (apk-installdb). A Node's Origin.Pkg
// indexes them.
type Sources struct {
	Pkgs []*installer.Installed
	// Blobs are the gzip tar layers: one per package, then the database layer's.
	Blobs  []string
	labels []string
}

// NewSources returns the sources of packages with their data layers and the database layer.
func NewSources(pkgs []*installer.Installed, data []string, database string) *Sources {
	s := &Sources{Pkgs: pkgs, Blobs: append(append([]string{}, data...), database)}
	for _, p := range pkgs {
		s.labels = append(s.labels, "package "+p.Info.Name+"-"+p.Info.Version)
	}
	s.labels = append(s.labels, dbLabel)
	return s
}

// Model is the filesystem the sources make (Model).
func (s *Sources) Model() (*FS, error) {
	return Model(s.Pkgs, s.Blobs[len(s.Blobs)-1])
}

// Read reads a small file's content (/etc/passwd, /etc/group) from its layer, for
// FS.ApplyAccounts.
func (s *Sources) Read(n *Node) ([]byte, error) {
	var data []byte
	err := scanMembers(s.Blobs[n.Origin.Pkg], map[string]bool{n.Origin.Member: true}, func(name string, h *tar.Header, r io.Reader) error {
		if h.Size > maxAccountsFile {
			return fmt.Errorf("/%s is %d bytes (more than %d)", name, h.Size, maxAccountsFile)
		}
		b, err := io.ReadAll(r)
		data = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.labels[n.Origin.Pkg], err)
	}
	if data == nil {
		return nil, fmt.Errorf("%s: /%s is not in its data layer %s", s.labels[n.Origin.Pkg], n.Origin.Member, s.Blobs[n.Origin.Pkg])
	}
	return data, nil
}

// Contents copies the content of the package files entries restate into temporary files
// under tmp, in one streaming pass per layer that has any, and returns WriteTar's content
// function, which opens them.
func (s *Sources) Contents(entries []Entry, tmp string) (func(Entry) (io.ReadCloser, int64, error), error) {
	need := map[int]map[string]bool{}
	for _, e := range entries {
		if e.NeedsContent() {
			o := e.Node.Origin
			if need[o.Pkg] == nil {
				need[o.Pkg] = map[string]bool{}
			}
			need[o.Pkg][o.Member] = true
		}
	}
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
		err := scanMembers(s.Blobs[i], need[i], func(name string, h *tar.Header, r io.Reader) error {
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
			return nil, fmt.Errorf("%s: %w", s.labels[i], err)
		}
	}
	return func(e Entry) (io.ReadCloser, int64, error) {
		c, ok := contents[member{e.Node.Origin.Pkg, e.Node.Origin.Member}]
		if !ok {
			return nil, 0, fmt.Errorf("%s: /%s is not in its data layer", e.Node.Origin.Label, e.Node.Origin.Member)
		}
		f, err := os.Open(c.file)
		return f, c.size, err
	}, nil
}

// Model builds the filesystem the package layers and the apk database layer make:
// the base layout and every package's owned entries from the facts, then the database
// layer's files, devices and symlinks from the layer.
func Model(pkgs []*installer.Installed, database string) (*FS, error) {
	res, err := installer.Install(pkgs, installer.BaseDirs)
	if err != nil {
		return nil, err
	}
	fsys := New()
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
		fsys.Add(d, &Node{Kind: Dir, Mode: mode, UID: m.UID, GID: m.GID, Origin: Origin{Pkg: -1}})
	}
	for i, owned := range res.Owned {
		label := "package " + pkgs[i].Info.Name + "-" + pkgs[i].Info.Version
		var links []apkfile.Entry
		for _, e := range owned {
			n := &Node{Mode: e.Mode, UID: e.UID, GID: e.GID, Origin: Origin{Pkg: -1, Label: label}}
			switch e.Type {
			case "dir":
				continue // in res.Dirs, with the first creator's metadata
			case "file":
				n.Kind, n.Origin.Pkg, n.Origin.Member, n.Size = File, i, e.Path, e.Size
			case "symlink":
				n.Kind, n.Link, n.Mode = Symlink, e.Linkname, 0o777
			case "hardlink":
				links = append(links, e)
				continue
			default:
				n.Kind = Other
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
func addDatabaseLayer(fsys *FS, blob string, idx int) error {
	err := walkLayer(blob, func(name string, h *tar.Header, _ io.Reader) (bool, error) {
		if name == "." || strings.HasPrefix(name, "../") || path.IsAbs(name) {
			return false, fmt.Errorf("bad entry %q", h.Name)
		}
		n := &Node{Mode: h.Mode & 0o7777, UID: h.Uid, GID: h.Gid, Origin: Origin{Pkg: -1, Label: dbLabel}}
		switch h.Typeflag {
		case tar.TypeDir:
			return true, nil
		case tar.TypeReg: // tar.Reader gives TypeRegA entries as TypeReg
			n.Kind, n.Origin.Pkg, n.Origin.Member, n.Size = File, idx, name, h.Size
		case tar.TypeSymlink:
			n.Kind, n.Link = Symlink, h.Linkname
		case tar.TypeChar:
			n.Kind, n.Dev = CharDevice, [2]int64{h.Devmajor, h.Devminor}
		default:
			n.Kind = Other
		}
		fsys.Add(name, n)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("apk database layer %s: %w", blob, err)
	}
	return nil
}

// scanMembers streams a gzip tar data layer and calls fn for each regular file whose clean
// name is in want, stopping once all were seen.
func scanMembers(blob string, want map[string]bool, fn func(name string, h *tar.Header, r io.Reader) error) error {
	left := len(want)
	if left == 0 {
		return nil
	}
	err := walkLayer(blob, func(name string, h *tar.Header, r io.Reader) (bool, error) {
		if !want[name] || h.Typeflag != tar.TypeReg {
			return true, nil
		}
		if err := fn(name, h, r); err != nil {
			return false, err
		}
		left--
		return left > 0, nil
	})
	var inLayer *layerError
	if errors.As(err, &inLayer) {
		return fmt.Errorf("%s: %w", blob, inLayer.err)
	}
	return err
}

// layerError is an error reading the layer itself (not one of fn's).
type layerError struct{ err error }

func (e *layerError) Error() string { return e.err.Error() }

// walkLayer streams a gzip tar layer, calling fn with each entry's clean name until fn
// says stop or the layer ends. Errors reading the layer itself are *layerError.
func walkLayer(blob string, fn func(name string, h *tar.Header, r io.Reader) (more bool, err error)) error {
	f, err := os.Open(blob)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return &layerError{err}
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &layerError{err}
		}
		more, err := fn(path.Clean(strings.TrimPrefix(h.Name, "./")), h, tr)
		if err != nil || !more {
			return err
		}
	}
}
