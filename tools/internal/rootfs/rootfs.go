// Package rootfs models an installed root filesystem from package facts (paths, types,
// modes, owners, link targets; no content) and applies apko's image-configuration
// mutations to it: accounts (/etc/passwd, /etc/group, /etc/shadow, home directories) and
// `paths`.
// Changed entries are written as one tar layer that goes on top of the package layers.
//
// The semantics are those of apko v1.2.39 (pkg/build/accounts.go, pkg/build/paths.go,
// pkg/passwd, and its in-memory tar filesystem pkg/apk/expandapk/tarfs, which follows symlinks in every
// path component, including the last one, for stat, chmod and chown).
package rootfs

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// Kind is a node type.
type Kind byte

// Node kinds.
const (
	Dir Kind = iota + 1
	File
	Symlink
	CharDevice
	Other // block devices, fifos: present, but never rewritten
)

func (k Kind) String() string {
	return map[Kind]string{Dir: "directory", File: "file", Symlink: "symlink", CharDevice: "character device", Other: "special file"}[k]
}

// Origin says where a file's content is.
type Origin struct {
	// Pkg is the index of the package whose data tar holds the content as Member; -1 when
	// Data holds it or the content is unknown.
	Pkg    int
	Member string
	// Label names the origin in errors ("package busybox-1.36", "the apk database layer").
	Label string
}

// Node is one filesystem object. Paths that are hard links of each other share a *Node,
// as in apko's tarfs, so a chmod through one name changes all.
type Node struct {
	Kind     Kind
	Mode     int64 // permission bits, 07777
	UID, GID int
	Link     string   // symlink target
	Dev      [2]int64 // character device numbers
	// Data is the content when known here (generated or truncated); nil means the content
	// is at Origin.
	Data   []byte
	Origin Origin
	// Size is the content's size at Origin (when Data is nil).
	Size  int64
	dirty bool
}

// FS is the model: real (symlink-free) relative paths to nodes; "" is the root.
type FS struct {
	nodes map[string]*Node
	// During a path mutation without `permissions`: the nodes it created. apko applies mode
	// 0 to what the path resolves to, a new node or one that existed (say /etc, reached
	// through a symlink): a mode nobody set, so chmodChown refuses it, naming which.
	created map[*Node]bool
}

// New returns a filesystem with only the root directory.
func New() *FS {
	return &FS{nodes: map[string]*Node{"": {Kind: Dir, Mode: 0o755, Origin: Origin{Pkg: -1}}}}
}

// Add puts a node at a clean relative path, creating missing parents as 0755 root
// directories. A later Add of the same path replaces the node (a later layer wins),
// except that directories keep the first metadata given, as apk does.
func (f *FS) Add(p string, n *Node) {
	for d := path.Dir(p); d != "." && d != ""; d = path.Dir(d) {
		if _, ok := f.nodes[d]; ok {
			break
		}
		f.nodes[d] = &Node{Kind: Dir, Mode: 0o755, Origin: Origin{Pkg: -1}}
	}
	if prev, ok := f.nodes[p]; ok && prev.Kind == Dir && n.Kind == Dir {
		return
	}
	f.nodes[p] = n
}

// Link makes p another name of the node at target (a hard link); false if there is none.
func (f *FS) Link(p, target string) bool {
	n, ok := f.nodes[target]
	if !ok || n.Kind == Dir {
		return false
	}
	f.Add(p, n)
	return true
}

// markCreated records a node made by the path mutation being applied.
func (f *FS) markCreated(n *Node) {
	if f.created != nil {
		f.created[n] = true
	}
}

// Lookup returns the node at a real path.
func (f *FS) Lookup(p string) *Node { return f.nodes[strings.Trim(p, "/")] }

// PathError is an error about one path of the image.
type PathError struct {
	Path string
	Err  string
}

func (e *PathError) Error() string { return "/" + e.Path + ": " + e.Err }

func perr(p, format string, args ...any) error {
	return &PathError{Path: p, Err: fmt.Sprintf(format, args...)}
}

// notExist reports a missing path (so callers can tell it from other errors).
type notExist struct{ path string }

func (e *notExist) Error() string { return "/" + e.path + ": no such file or directory" }

const maxLinks = 40

// split turns "/a//b/./c" into [a b c]; ".." components are an error (callers' paths) .
func split(p string) ([]string, error) {
	var parts []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
			continue
		case "..":
			return nil, fmt.Errorf("path %q contains '..'", p)
		}
		parts = append(parts, s)
	}
	return parts, nil
}

// resolve walks p from the root, following symlinks in every component but the last, and
// in the last too when followLast. It returns the real path and its node, nil when the
// last component does not exist. A missing or non-directory intermediate component is an
// error; so is a symlink whose target leaves the root.
func (f *FS) resolve(p string, followLast bool) (string, *Node, error) {
	return f.resolveDepth(p, followLast, 0)
}

func (f *FS) resolveDepth(p string, followLast bool, depth int) (string, *Node, error) {
	parts, err := split(p)
	if err != nil {
		return "", nil, err
	}
	cur := ""
	for i, part := range parts {
		next := path.Join(cur, part)
		n := f.nodes[next]
		last := i == len(parts)-1
		if n == nil {
			if last {
				return next, nil, nil
			}
			return "", nil, &notExist{next}
		}
		if n.Kind == Symlink && (!last || followLast) {
			if depth+1 > maxLinks {
				return "", nil, perr(next, "too many levels of symbolic links")
			}
			base := cur
			if path.IsAbs(n.Link) {
				base = ""
			}
			// path.Join would clamp ".." at the root; a link that tries to leave it is an error.
			if escapes(base, n.Link) {
				return "", nil, perr(next, "symlink to %q escapes the root", n.Link)
			}
			target := path.Join("/", base, n.Link)
			rest := append([]string{target}, parts[i+1:]...)
			return f.resolveDepth(path.Join(rest...), followLast, depth+1)
		}
		if !last && n.Kind != Dir {
			return "", nil, perr(next, "is a %s, not a directory", n.Kind)
		}
		cur = next
	}
	return cur, f.nodes[cur], nil
}

// escapes reports whether the relative link target, seen from directory dir, goes above
// the root.
func escapes(dir, target string) bool {
	depth := 0
	if dir != "" {
		depth = strings.Count(dir, "/") + 1
	}
	for _, s := range strings.Split(target, "/") {
		switch s {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// stat follows every symlink; a missing path is a *notExist error.
func (f *FS) stat(p string) (string, *Node, error) {
	real, n, err := f.resolve(p, true)
	if err != nil {
		return "", nil, err
	}
	if n == nil {
		return "", nil, &notExist{real}
	}
	return real, n, nil
}

func isNotExist(err error) bool {
	_, ok := err.(*notExist)
	return ok
}

// mkdirAll creates p and its missing parents with perm (owner root), following existing
// symlinks, as tarfs MkdirAll does. It returns the real path.
func (f *FS) mkdirAll(p string, perm int64) (string, error) {
	parts, err := split(p)
	if err != nil {
		return "", err
	}
	cur := ""
	for _, part := range parts {
		next := path.Join(cur, part)
		n := f.nodes[next]
		if n == nil {
			n = &Node{Kind: Dir, Mode: perm, Origin: Origin{Pkg: -1}, dirty: true}
			f.nodes[next] = n
			f.markCreated(n)
		}
		if n.Kind == Symlink {
			real, t, err := f.stat(next)
			if err != nil {
				return "", err
			}
			next, n = real, t
		}
		if n.Kind != Dir {
			return "", perr(next, "is a %s, not a directory", n.Kind)
		}
		cur = next
	}
	return cur, nil
}

// chmodChown sets mode and owner of what p resolves to (following symlinks).
func (f *FS) chmodChown(p string, perm int64, own *owner) error {
	real, n, err := f.stat(p)
	if err != nil {
		return err
	}
	if n.Kind == Other {
		return perr(real, "changing a %s is not supported", n.Kind)
	}
	if f.created != nil {
		if f.created[n] {
			return perr(real, "permissions is not set, so apko would create this %s with mode 0000; set permissions (0 only if you mean it)", n.Kind)
		}
		how := ""
		if strings.Trim(p, "/") != real {
			how = fmt.Sprintf(" (through /%s)", strings.Trim(p, "/"))
		}
		return perr(real, "permissions is not set, so apko would change this existing %s%s from mode %04o to 0000; set permissions (e.g. %04o to keep it)", n.Kind, how, n.Mode&0o7777, n.Mode&0o7777)
	}
	n.Mode, n.dirty = perm&0o7777, true
	if own != nil {
		n.UID, n.GID = own.uid, own.gid
	}
	return nil
}

// readFile returns a file's content through read (for content at a package).
func readFile(n *Node, real string, read func(*Node) ([]byte, error)) ([]byte, error) {
	if n.Data != nil {
		return n.Data, nil
	}
	if n.Origin.Pkg < 0 {
		return nil, perr(real, "content of a file from %s is not available here", n.Origin.Label)
	}
	return read(n)
}

// openOrCreate returns the file at p, creating an empty 0644 root file when missing.
func (f *FS) openOrCreate(p string) (string, *Node, error) { return f.openOrCreatePerm(p, 0o644) }

// openOrCreatePerm returns the file at p, creating an empty root file with mode perm when
// missing. The parent must exist, as in tarfs OpenFile with O_CREATE.
func (f *FS) openOrCreatePerm(p string, perm int64) (string, *Node, error) {
	real, n, err := f.resolve(p, true)
	if err != nil {
		return "", nil, err
	}
	if n == nil {
		parent := path.Dir(real)
		if parent == "." {
			parent = ""
		}
		if pn := f.nodes[parent]; pn == nil || pn.Kind != Dir {
			return "", nil, &notExist{parent}
		}
		n = &Node{Kind: File, Mode: perm, Data: []byte{}, Origin: Origin{Pkg: -1, Label: "the configuration"}, dirty: true}
		f.nodes[real] = n
		f.markCreated(n)
	}
	if n.Kind != File {
		return "", nil, perr(real, "is a %s, not a file", n.Kind)
	}
	return real, n, nil
}

// Entry is one tar entry of the output layer.
type Entry struct {
	Path string
	Node *Node
	// HardlinkTo, when set, makes this entry a hard link to that path (written earlier).
	HardlinkTo string
}

// Changed returns the entries to write: every changed node under all its names, sorted by
// path; a node with several names is a file under the first and hard links under the rest.
func (f *FS) Changed() []Entry {
	names := map[*Node][]string{}
	for p, n := range f.nodes {
		if n.dirty && p != "" {
			names[n] = append(names[n], p)
		}
	}
	var out []Entry
	for n, ps := range names {
		sort.Strings(ps)
		out = append(out, Entry{Path: ps[0], Node: n})
		for _, p := range ps[1:] {
			out = append(out, Entry{Path: p, Node: n, HardlinkTo: ps[0]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// NeedsContent reports whether writing the entry needs the content at its origin.
func (e Entry) NeedsContent() bool {
	return e.HardlinkTo == "" && e.Node.Kind == File && e.Node.Data == nil
}

// Check returns an error for a changed entry that cannot be written: a file whose content
// is not at a package.
func (e Entry) Check() error {
	if e.NeedsContent() && e.Node.Origin.Pkg < 0 {
		return perr(e.Path, "changing a file from %s is not supported", e.Node.Origin.Label)
	}
	return nil
}

// WriteTar writes the entries: PAX, no owner names, fixed mtime. content returns the
// content of entries that NeedsContent.
func WriteTar(w io.Writer, entries []Entry, mtime time.Time, content func(Entry) (io.ReadCloser, int64, error)) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		n := e.Node
		h := &tar.Header{Name: e.Path, ModTime: mtime, Format: tar.FormatPAX, Uid: n.UID, Gid: n.GID, Mode: n.Mode}
		var body io.ReadCloser
		switch {
		case e.HardlinkTo != "":
			h.Typeflag, h.Linkname = tar.TypeLink, e.HardlinkTo
		case n.Kind == Dir:
			h.Typeflag, h.Name = tar.TypeDir, e.Path+"/"
		case n.Kind == Symlink:
			h.Typeflag, h.Linkname = tar.TypeSymlink, n.Link
		case n.Kind == CharDevice:
			h.Typeflag, h.Devmajor, h.Devminor = tar.TypeChar, n.Dev[0], n.Dev[1]
		case n.Kind == File && n.Data != nil:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(n.Data))
		case n.Kind == File:
			rc, size, err := content(e)
			if err != nil {
				return err
			}
			body = rc
			h.Typeflag, h.Size = tar.TypeReg, size
		default:
			return perr(e.Path, "cannot write a %s", n.Kind)
		}
		if err := tw.WriteHeader(h); err != nil {
			if body != nil {
				body.Close()
			}
			return fmt.Errorf("/%s: %w", e.Path, err)
		}
		if n.Kind == File && e.HardlinkTo == "" {
			var err error
			if body != nil {
				var c int64
				c, err = io.Copy(tw, body)
				body.Close()
				if err == nil && c != h.Size {
					err = fmt.Errorf("content is %d bytes, expected %d", c, h.Size)
				}
			} else {
				_, err = tw.Write(n.Data)
			}
			if err != nil {
				return fmt.Errorf("/%s: %w", e.Path, err)
			}
		}
	}
	return tw.Close()
}
