// Package attribution says, for every path of an image's final filesystem, which layer put
// it there (and the APK package or Bazel label behind that layer) and which earlier
// layers' entries it replaced. It works from what the layer actions wrote beside the
// blobs (package facts, layer listings), never from the blobs: a layer's entries are
// applied in order with overlay semantics (a later entry replaces an earlier one of the
// same path; `.wh.NAME` deletes NAME, `.wh..wh..opq` empties its directory of what lower
// layers put in it).
package attribution

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// OCI whiteout names (image-spec layer.md).
const (
	whiteoutPrefix = ".wh."
	opaqueName     = ".wh..wh..opq"
)

// Package is the APK package an entry came from.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Origin  string `json:"origin,omitempty"`
	License string `json:"license,omitempty"`
}

// Owner is what put an entry in the image: a layer and, when known, the package or label
// behind it.
type Owner struct {
	Layer   int      `json:"layer"`
	Digest  string   `json:"digest"`
	Label   string   `json:"label,omitempty"`
	Package *Package `json:"package,omitempty"`
	// Deleted: this layer deleted the entry below it (a whiteout), it put none there.
	Deleted bool `json:"deleted,omitempty"`
}

// File is one path of the final filesystem.
type File struct {
	Path string `json:"path"`
	Type string `json:"type"`
	Mode int64  `json:"mode"`
	// Link is a symlink's target or a hard link's path.
	Link  string `json:"link,omitempty"`
	Owner Owner  `json:"owner"`
	// Replaced are the earlier layers' entries of this path it replaced, bottom first.
	Replaced []Owner `json:"replaced,omitempty"`
}

// Layer is one layer, bottom first, with where its entries come from.
type Layer struct {
	Digest string
	Label  string
	// Base names the pulled image a layer without known entries belongs to.
	Base string
	// Known: Groups lists every entry (false for a pulled base's layers).
	Known  bool
	Groups []Group
}

// Group is entries of a layer with one origin: a package (facts) or the layer's own label.
type Group struct {
	Package *Package
	Entries []apkfile.Entry
}

// FS is the filesystem the layers applied so far make.
type FS struct {
	files map[string]*File
	// gone keeps the owners of deleted paths, so that an entry that comes back says so.
	gone map[string][]Owner
}

// NewFS returns an empty filesystem.
func NewFS() *FS { return &FS{files: map[string]*File{}, gone: map[string][]Owner{}} }

// Apply applies layer number index: its whiteouts against the lower layers first, then
// its entries.
func (fs *FS) Apply(index int, l *Layer) error {
	if !l.Known {
		return nil
	}
	base := Owner{Layer: index, Digest: l.Digest, Label: l.Label}
	for _, g := range l.Groups {
		for _, e := range g.Entries {
			if err := fs.whiteout(base, e.Path); err != nil {
				return fmt.Errorf("layer %d (%s): %w", index, l.Digest, err)
			}
		}
	}
	for _, g := range l.Groups {
		o := base
		o.Package = g.Package
		for _, e := range g.Entries {
			if !strings.HasPrefix(path.Base(e.Path), whiteoutPrefix) {
				fs.put(o, e)
			}
		}
	}
	return nil
}

// whiteout applies p when it is a whiteout name.
func (fs *FS) whiteout(o Owner, p string) error {
	dir, name := path.Split(clean(p))
	dir = strings.TrimSuffix(dir, "/")
	if !strings.HasPrefix(name, whiteoutPrefix) {
		return nil
	}
	o.Deleted = true
	if name == opaqueName {
		fs.removeBelow(dir, o)
		return nil
	}
	target := path.Join(dir, strings.TrimPrefix(name, whiteoutPrefix))
	if target == dir || strings.HasPrefix(strings.TrimPrefix(name, whiteoutPrefix), whiteoutPrefix) {
		return fmt.Errorf("whiteout %q names no file", p)
	}
	fs.remove(target, o)
	fs.removeBelow(target, o)
	return nil
}

// remove deletes p, remembering who had put it there and who deleted it.
func (fs *FS) remove(p string, by Owner) {
	f, ok := fs.files[p]
	if !ok {
		return
	}
	delete(fs.files, p)
	fs.gone[p] = append(append(f.Replaced, f.Owner), by)
}

// removeBelow deletes every path under dir ("" is the root).
func (fs *FS) removeBelow(dir string, by Owner) {
	prefix := dir + "/"
	for p := range fs.files {
		if dir == "" || strings.HasPrefix(p, prefix) {
			fs.remove(p, by)
		}
	}
}

// clean is p as a key: relative, clean ("" for the root).
func clean(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

// put adds e as o's, replacing the entry of its path.
func (fs *FS) put(o Owner, e apkfile.Entry) {
	p := clean(e.Path)
	if p == "" {
		return // the root itself carries no file
	}
	f := &File{Path: "/" + p, Type: e.Type, Mode: e.Mode, Link: e.Linkname, Owner: o}
	if e.Type == "hardlink" {
		f.Link = "/" + clean(e.Linkname)
	}
	if old, ok := fs.files[p]; ok {
		f.Replaced = append(append([]Owner{}, old.Replaced...), old.Owner)
		if old.Type == "dir" && e.Type != "dir" {
			// What was below the directory is no longer reachable.
			fs.removeBelow(p, o)
		}
	} else if gone, ok := fs.gone[p]; ok {
		f.Replaced = gone
	}
	delete(fs.gone, p)
	fs.files[p] = f
}

// Files is the filesystem sorted by path.
func (fs *FS) Files() []*File {
	out := make([]*File, 0, len(fs.files))
	for _, f := range fs.files {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
