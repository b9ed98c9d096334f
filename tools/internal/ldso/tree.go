// Package ldso writes /etc/ld.so.cache as apko v1.2.39 does (its internal/ldso-cache and
// build.updateCache), from a filesystem described by package facts instead of read from
// disk: which files exist, where symlinks point, the content of ld.so.conf files and what the
// ELF headers of files named like libraries say. Tree resolves paths as apko's in-memory
// filesystem (pkg/tarfs) does, so the same symlinks lead to the same files.
package ldso

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type kind uint8

const (
	kindDir kind = iota
	kindFile
	kindSymlink
	kindOther // a device or fifo: no children, reads as empty
)

// Lib is what a file named like a library (IsLibName) says of itself: its ELF machine and
// SONAMEs, or why apko leaves it out of the cache (not ELF, not a dynamic object, an
// unreadable dynamic section), as apk-extract records it.
type Lib struct {
	Machine   uint16
	Sonames   []string
	NotShared string
}

// File is a regular file: its size, its content when the facts hold it (ld.so.conf files),
// its library facts when it is named like a library.
type File struct {
	Size       int64
	Content    []byte
	HasContent bool
	Lib        *Lib
}

type node struct {
	kind     kind
	children map[string]*node
	target   string
	file     File
	owner    string // the package that put it there; "" for the base layout
	path     string // where it was put, for messages
}

// where names a node for messages: its path and package.
func (n *node) where() string {
	if n.owner == "" {
		return "/" + n.path
	}
	return fmt.Sprintf("/%s (package %s)", n.path, n.owner)
}

// Tree is an image's filesystem as far as the cache needs it.
type Tree struct{ root *node }

// NewTree is an empty filesystem: the root directory.
func NewTree() *Tree { return &Tree{root: &node{kind: kindDir, children: map[string]*node{}}} }

// put places n at p (cleaned, relative), creating missing parent directories. Packages come
// in install order, so a later one's entry replaces an earlier one's; a directory listed again
// keeps its children.
func (t *Tree) put(p string, n *node) {
	parts := strings.Split(filepath.Clean(p), "/")
	d := t.root
	for _, part := range parts[:len(parts)-1] {
		c := d.children[part]
		if c == nil || c.kind != kindDir {
			c = &node{kind: kindDir, children: map[string]*node{}, path: part}
			d.children[part] = c
		}
		d = c
	}
	base := parts[len(parts)-1]
	if old := d.children[base]; old != nil && old.kind == kindDir && n.kind == kindDir {
		return
	}
	n.path = filepath.Clean(p)
	d.children[base] = n
}

// Dir adds a directory.
func (t *Tree) Dir(p, owner string) {
	t.put(p, &node{kind: kindDir, children: map[string]*node{}, owner: owner})
}

// AddFile adds a regular file.
func (t *Tree) AddFile(p, owner string, f File) {
	t.put(p, &node{kind: kindFile, file: f, owner: owner})
}

// Symlink adds a symlink to target.
func (t *Tree) Symlink(p, target, owner string) {
	t.put(p, &node{kind: kindSymlink, target: target, owner: owner})
}

// Other adds a device or fifo.
func (t *Tree) Other(p, owner string) { t.put(p, &node{kind: kindOther, owner: owner}) }

// Hardlink makes p another name of the regular file at target (as apko's filesystem links
// the node: a later replacement of target leaves p as it was).
func (t *Tree) Hardlink(p, target string) error {
	n, err := t.lookup(target, 0)
	if err != nil || n.kind != kindFile {
		return fmt.Errorf("hard link /%s: /%s is no regular file", p, target)
	}
	t.put(p, n)
	// put set the shared node's path; messages name the first name.
	n.path = filepath.Clean(target)
	return nil
}

// maxLinks is apko's (and Linux's) limit on symlinks followed in one lookup.
const maxLinks = 40

var errLinkDepth = fmt.Errorf("maximum symlink depth exceeded (%d symlinks)", maxLinks)

// lookup resolves p as tarfs's getNode: every symlink on the way, the last one too, a
// relative target joined lexically to the path walked so far (as written, not resolved).
func (t *Tree) lookup(p string, depth int) (*node, error) {
	if p == "/" || p == "." {
		return t.root, nil
	}
	n := t.root
	var walked []string
	for _, part := range strings.Split(p, "/") {
		if part == "" {
			continue
		}
		c, ok := n.children[part]
		if !ok {
			return nil, fs.ErrNotExist
		}
		if c.kind == kindSymlink {
			if depth+1 > maxLinks {
				return nil, errLinkDepth
			}
			target := c.target
			if !filepath.IsAbs(target) {
				target = filepath.Join(strings.Join(walked, "/"), target)
			}
			r, err := t.lookup(target, depth+1)
			if errors.Is(err, errLinkDepth) && depth == 0 {
				return nil, fmt.Errorf("%s -> %s: %w", c.where(), c.target, err)
			}
			if err != nil {
				return nil, err
			}
			c = r
		}
		n = c
		walked = append(walked, part)
	}
	return n, nil
}

// open finds the file a read of name reads, as tarfs's openFile: the parent resolved, a
// final symlink followed relative to the parent as written.
func (t *Tree) open(name string, links int) (*node, error) {
	parent, base := filepath.Dir(name), filepath.Base(name)
	pn, err := t.lookup(parent, 0)
	if err != nil {
		return nil, err
	}
	if pn.kind != kindDir {
		return nil, errors.New("parent is not a directory")
	}
	n, ok := pn.children[base]
	if !ok {
		if parent == name {
			return pn, nil // tarfs opens the directory itself; it reads as empty
		}
		return nil, fs.ErrNotExist
	}
	if n.kind == kindDir {
		return nil, fmt.Errorf("%s is a directory", n.where())
	}
	if n.kind == kindSymlink {
		if links+1 > maxLinks {
			return nil, errors.New("too many links")
		}
		target := n.target
		if !filepath.IsAbs(target) {
			target = filepath.Join(parent, target)
		}
		return t.open(target, links+1)
	}
	return n, nil
}

// Stat is tarfs's Stat (symlinks followed), for fs.Glob.
func (t *Tree) Stat(name string) (fs.FileInfo, error) {
	n, err := t.lookup(name, 0)
	if err != nil {
		return nil, err
	}
	return info{n, filepath.Base(name)}, nil
}

// ReadDir is tarfs's ReadDir: the directory name resolves to, its entries by name, each
// with its own type (a symlink is a symlink).
func (t *Tree) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := t.lookup(name, 0)
	if err != nil {
		return nil, err
	}
	if n.kind != kindDir {
		return nil, errNotDir{n}
	}
	des := make([]fs.DirEntry, 0, len(n.children))
	for name, c := range n.children {
		des = append(des, fs.FileInfoToDirEntry(info{c, name}))
	}
	sort.Slice(des, func(i, j int) bool { return des[i].Name() < des[j].Name() })
	return des, nil
}

// Open is part of fs.FS; fs.Glob, the one caller, uses Stat and ReadDir instead.
func (t *Tree) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: errors.ErrUnsupported}
}

// errNotDir is tarfs's "not a directory", naming what is there instead.
type errNotDir struct{ n *node }

func (e errNotDir) Error() string { return e.n.where() + " is not a directory" }

type info struct {
	n    *node
	name string
}

func (i info) Name() string { return i.name }
func (i info) Size() int64  { return i.n.file.Size }
func (i info) Mode() fs.FileMode {
	switch i.n.kind {
	case kindDir:
		return fs.ModeDir | 0o755
	case kindSymlink:
		return fs.ModeSymlink | 0o777
	case kindOther:
		return fs.ModeDevice | fs.ModeCharDevice | 0o644
	}
	return 0o644
}
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.n.kind == kindDir }
func (i info) Sys() any           { return nil }
