// Package structuretest checks an image against container-structure-test's YAML (schema
// 2.0.0) and against policy rules, reading the image's layers as one merged filesystem: the
// layers are streamed once, bottom first; only the headers of every entry and the bytes of
// the files a check reads are kept.
package structuretest

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// maxContent bounds the bytes kept for one file a content or license check reads.
const maxContent = 64 << 20

// Entry is a path of the merged filesystem, as the layer that put it last describes it.
type Entry struct {
	Path     string // absolute, cleaned
	Name     string // the entry's name in its layer, cleaned (Path unless under a symlink)
	Mode     fs.FileMode
	Uid, Gid int
	Linkname string // symlink target, or a hard link's target path (absolute)
	Hardlink bool
	Layer    int // index of the layer, bottom first
	Implicit bool
}

// FS is the merged view of an image's layers.
type FS struct {
	entries  map[string]*Entry
	contents map[string][]byte // by "<layer>:<path>": the bytes captured in that layer
	want     func(p string) bool
}

// Layer is one layer blob and a name for messages.
type Layer struct {
	Path, Name string
}

// Read streams the layers, bottom first, into one view. want says which paths' bytes to
// keep (the files checks read); others are only headers.
func Read(layers []Layer, want func(p string) bool) (*FS, error) {
	v := &FS{entries: map[string]*Entry{"/": {Path: "/", Mode: fs.ModeDir | 0o755, Implicit: true}}, contents: map[string][]byte{}, want: want}
	for i, l := range layers {
		if err := v.readLayer(i, l); err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, l.Name, err)
		}
	}
	return v, nil
}

func (v *FS) readLayer(i int, l Layer) error {
	return v.scan(l, func(name string, h *tar.Header, r io.Reader) error { return v.add(i, name, h, r) })
}

// scan streams a layer's entries to f with each entry's cleaned absolute name.
func (v *FS) scan(l Layer, f func(name string, h *tar.Header, r io.Reader) error) error {
	file, err := os.Open(l.Path)
	if err != nil {
		return err
	}
	defer file.Close()
	r, err := layer.Decompress(file)
	if err != nil {
		return err
	}
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(path.Clean("/"+h.Name), h, tr); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
}

func (v *FS) add(i int, name string, h *tar.Header, r io.Reader) error {
	dir, base := path.Split(name)
	dir = path.Clean(dir)
	switch {
	case base == ".wh..wh..opq":
		v.removeBelow(dir, i, false)
		return nil
	case strings.HasPrefix(base, ".wh."):
		v.removeBelow(path.Join(dir, strings.TrimPrefix(base, ".wh.")), i, true)
		return nil
	case name == "/":
		return nil
	}
	// A directory reached through a symlink of a lower layer: the entry lands where the
	// link points, as unpacking it would put it.
	if d, real, err := v.resolve(dir, true); err == nil && d != nil && d.Mode.IsDir() {
		dir = real
	}
	p := path.Join(dir, base)
	e := &Entry{Path: p, Name: name, Mode: h.FileInfo().Mode(), Uid: h.Uid, Gid: h.Gid, Layer: i}
	switch h.Typeflag {
	case tar.TypeSymlink:
		e.Linkname, e.Mode = h.Linkname, fs.ModeSymlink|0o777
	case tar.TypeLink:
		e.Hardlink, e.Linkname = true, path.Clean("/"+h.Linkname)
	}
	if old := v.entries[p]; old != nil && old.Mode.IsDir() && !e.Mode.IsDir() {
		v.removeBelow(p, i+1, false)
	}
	v.parents(dir, i)
	v.entries[p] = e
	if e.Mode.IsRegular() && !e.Hardlink && v.want(p) {
		b, err := readLimited(r)
		if err != nil {
			return err
		}
		v.contents[key(i, p)] = b
	}
	return nil
}

// readLimited reads a checked file's bytes, refusing one over maxContent.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxContent+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxContent {
		return nil, fmt.Errorf("a checked file is larger than %d bytes", maxContent)
	}
	return b, nil
}

func key(layer int, p string) string { return fmt.Sprintf("%d:%s", layer, p) }

// parents adds the directories a tar left out, as unpacking does (0755, root).
func (v *FS) parents(dir string, i int) {
	for d := dir; d != "/"; d = path.Dir(d) {
		if e := v.entries[d]; e != nil && e.Mode.IsDir() {
			return
		}
		v.entries[d] = &Entry{Path: d, Mode: fs.ModeDir | 0o755, Layer: i, Implicit: true}
	}
}

// removeBelow deletes what layers under layer i put at and under p (self: p too), as a
// whiteout does; an opaque whiteout keeps p itself.
func (v *FS) removeBelow(p string, i int, self bool) {
	if e := v.entries[p]; self && (e == nil || !e.Mode.IsDir()) {
		// Not a directory: nothing under it, no scan of every path.
		if e != nil && e.Layer < i {
			delete(v.entries, p)
		}
		return
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	for name, e := range v.entries {
		if e.Layer < i && (strings.HasPrefix(name, prefix) || (self && name == p)) {
			delete(v.entries, name)
		}
	}
}

// resolve follows symlinks in the directories of p (and in p itself when last is set),
// inside the image's root, as a process in the container sees them.
func (v *FS) resolve(p string, last bool) (*Entry, string, error) {
	p = path.Clean("/" + p)
	for hops := 0; hops < 40; hops++ {
		cur, rest, redirected := "/", strings.Split(strings.TrimPrefix(p, "/"), "/"), false
		for j, part := range rest {
			if part == "" {
				continue
			}
			cur = path.Join(cur, part)
			e := v.entries[cur]
			if e == nil {
				return nil, cur, fmt.Errorf("%s: no such file or directory", cur)
			}
			final := j == len(rest)-1
			if e.Mode&fs.ModeSymlink != 0 && (!final || last) {
				target := e.Linkname
				if !path.IsAbs(target) {
					target = path.Join(path.Dir(cur), target)
				}
				p, redirected = path.Join(append([]string{target}, rest[j+1:]...)...), true
				break
			}
			if !final && !e.Mode.IsDir() {
				return nil, cur, fmt.Errorf("%s: not a directory", cur)
			}
		}
		if !redirected {
			if p == "/" {
				return v.entries["/"], p, nil
			}
			return v.entries[p], p, nil
		}
	}
	return nil, p, fmt.Errorf("%s: too many levels of symbolic links", p)
}

// Lstat is the entry at p, its directories' symlinks followed but not its own.
func (v *FS) Lstat(p string) (*Entry, error) {
	e, _, err := v.resolve(p, false)
	if err != nil {
		return nil, err
	}
	return v.owner(e), nil
}

// owner gives a hard link its target's mode and owner, as unpacking (one inode) does.
func (v *FS) owner(e *Entry) *Entry {
	if !e.Hardlink {
		return e
	}
	if t := v.entries[e.Linkname]; t != nil && !t.Hardlink {
		c := *t
		c.Path, c.Layer, c.Hardlink, c.Linkname = e.Path, e.Layer, true, t.Path
		return &c
	}
	return e
}

// source is the regular file entry holding the bytes of the file at p (a hard link's
// target), symlinks followed.
func (v *FS) source(p string) (*Entry, error) {
	e, _, err := v.resolve(p, true)
	if err != nil {
		return nil, err
	}
	if e.Hardlink {
		t := v.entries[e.Linkname]
		if t == nil {
			return nil, fmt.Errorf("%s: hard link to %s, which is not in the image", e.Path, e.Linkname)
		}
		e = t
	}
	if !e.Mode.IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", e.Path, e.Mode)
	}
	return e, nil
}

// ReadFile returns the bytes of the file at p, symlinks followed.
func (v *FS) ReadFile(p string) ([]byte, error) {
	e, err := v.source(p)
	if err != nil {
		return nil, err
	}
	if b, ok := v.contents[key(e.Layer, e.Path)]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: its bytes were not read from layer %d", e.Path, e.Layer)
}

// Fill reads again, from only the layers that hold them, the bytes of paths whose file is
// reached through a link (found only once every layer's headers were read).
func (v *FS) Fill(layers []Layer, paths []string) error {
	missing := map[int]map[string]*Entry{} // layer -> name in it -> entry
	for _, p := range paths {
		e, err := v.source(p)
		if err != nil {
			continue
		}
		if _, ok := v.contents[key(e.Layer, e.Path)]; ok {
			continue
		}
		if missing[e.Layer] == nil {
			missing[e.Layer] = map[string]*Entry{}
		}
		missing[e.Layer][e.Name] = e
	}
	for i, want := range missing {
		err := v.scan(layers[i], func(name string, h *tar.Header, r io.Reader) error {
			if e := want[name]; e != nil && h.Typeflag == tar.TypeReg {
				b, err := readLimited(r)
				v.contents[key(i, e.Path)] = b
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("layer %d (%s): %w", i, layers[i].Name, err)
		}
	}
	return nil
}

// ReadDir lists the entries directly under the directory p, sorted.
func (v *FS) ReadDir(p string) ([]*Entry, error) {
	e, real, err := v.resolve(p, true)
	if err != nil {
		return nil, err
	}
	if !e.Mode.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", p)
	}
	prefix := strings.TrimSuffix(real, "/") + "/"
	var out []*Entry
	for name, c := range v.entries {
		if strings.HasPrefix(name, prefix) && !strings.Contains(name[len(prefix):], "/") {
			out = append(out, v.owner(c))
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Path < out[b].Path })
	return out, nil
}

// Walk calls f for every entry, sorted by path (the policy checks' order).
func (v *FS) Walk(f func(*Entry)) {
	names := make([]string, 0, len(v.entries))
	for n := range v.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f(v.owner(v.entries[n]))
	}
}
