package structuretest

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Unpack writes the merged filesystem under root (an empty directory), for a container to
// run in: directories, symlinks and hard links from the view, each regular file's bytes
// streamed from the one layer that holds its final version. Device nodes are left out: the
// runtime makes /dev. Every parent is a directory of the view, so nothing is written through
// a symlink.
func (v *FS) Unpack(layers []Layer, root string) error {
	var dirs, links []*Entry
	byLayer := map[int]map[string]*Entry{}
	for _, e := range v.entries {
		switch {
		case e.Mode.IsDir():
			dirs = append(dirs, e)
		case e.Hardlink:
			links = append(links, e)
		case e.Mode&fs.ModeSymlink != 0:
			if err := v.mkParent(root, e.Path); err != nil {
				return err
			}
			if err := os.Symlink(e.Linkname, filepath.Join(root, e.Path)); err != nil {
				return err
			}
		case e.Mode.IsRegular():
			if byLayer[e.Layer] == nil {
				byLayer[e.Layer] = map[string]*Entry{}
			}
			byLayer[e.Layer][e.Name] = e
		}
	}
	for i, want := range byLayer {
		if err := unpackLayer(layers[i], root, want); err != nil {
			return fmt.Errorf("layer %d (%s): %w", i, layers[i].Name, err)
		}
	}
	sort.Slice(links, func(a, b int) bool { return links[a].Path < links[b].Path })
	for _, l := range links {
		if err := os.Link(filepath.Join(root, l.Linkname), filepath.Join(root, l.Path)); err != nil {
			return err
		}
	}
	// Deepest first, so that a read-only directory is closed after what goes in it.
	sort.Slice(dirs, func(a, b int) bool { return dirs[a].Path > dirs[b].Path })
	for _, d := range dirs {
		p := filepath.Join(root, d.Path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := setOwnerMode(p, d); err != nil {
			return err
		}
	}
	return nil
}

func (v *FS) mkParent(root, p string) error {
	return os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
}

func setOwnerMode(p string, e *Entry) error {
	if err := os.Lchown(p, e.Uid, e.Gid); err != nil {
		return err
	}
	return os.Chmod(p, e.Mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}

// unpackLayer writes the regular files of one layer that want names (their final version).
func unpackLayer(l Layer, root string, want map[string]*Entry) error {
	v := &FS{entries: map[string]*Entry{}, contents: map[string][]byte{}}
	return v.scan(l, func(name string, h *tar.Header, r io.Reader) error {
		e := want[name]
		if e == nil || h.Typeflag != tar.TypeReg {
			return nil
		}
		dst := filepath.Join(root, e.Path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return setOwnerMode(dst, e)
	})
}
