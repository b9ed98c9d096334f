package rootfs

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
)

// ApplyPaths applies `paths` in order as apko v1.2.39's mutatePaths does:
//   - directory: create it and missing parents with the permissions;
//   - empty-file: missing parents 0755; create the file (or truncate one made earlier
//     here; a non-empty package file is an error, see below);
//   - hardlink: missing parents 0755; replace what is at path by a hard link to source;
//   - symlink: missing parents 0755; a symlink to source (an existing path is an error);
//   - permissions: nothing is created.
//
// Then, for every type, what path resolves to (following symlinks, so for `symlink` the
// link's target, which must exist) gets the permissions, and with `recursive` so does every
// entry below it (symlinks there: their targets). The owner changes only when uid or gid is
// given (the other is then 0): without them it stays, as a home directory's must.
// Paths with ".." and symlinks leaving the root are errors, as are hard links to or over
// directories.
func (f *FS) ApplyPaths(muts []apkoconfig.PathMutation) error {
	for i, m := range muts {
		if err := f.applyPath(m); err != nil {
			return fmt.Errorf("paths[%d] (%s %s): %w", i, m.Type, m.Path, err)
		}
	}
	return nil
}

func (f *FS) applyPath(m apkoconfig.PathMutation) error {
	if _, err := split(m.Path); err != nil {
		return err
	}
	if !m.PermissionsSet && m.Permissions == 0 {
		f.created = map[*Node]bool{}
		defer func() { f.created = nil }()
	}
	perm := int64(m.Permissions)
	var err error
	switch m.Type {
	case apkoconfig.PathDirectory:
		_, err = f.mkdirAll(m.Path, perm)
	case apkoconfig.PathEmptyFile:
		err = f.emptyFile(m.Path)
	case apkoconfig.PathHardlink:
		err = f.hardlink(m.Path, m.Source)
	case apkoconfig.PathSymlink:
		err = f.symlink(m.Path, m.Source)
	case apkoconfig.PathPermissions:
	default:
		err = fmt.Errorf("unsupported type %q", m.Type)
	}
	if err != nil {
		return err
	}
	if err := f.chmodPath(m.Path, perm, ownerOf(m), m.Recursive); err != nil {
		if isNotExist(err) && m.Type == apkoconfig.PathSymlink {
			return fmt.Errorf("apko sets the permissions of a symlink's target, and it does not exist: %w", err)
		}
		return err
	}
	return nil
}

// emptyFile creates the file at p, or truncates one made earlier here.
func (f *FS) emptyFile(p string) error {
	if err := f.parents(p); err != nil {
		return err
	}
	real, n, err := f.openOrCreate(p)
	if err != nil {
		return err
	}
	if n.Kind != File {
		return perr(real, "is a %s", n.Kind)
	}
	if n.Data == nil && n.Size > 0 {
		// apko (v0.30.34 and v1.2.39, checked) truncates only in memory: a package file keeps its
		// content in the image. Neither result is worth a silent difference.
		return perr(real, "is a non-empty file of %s: apko v1.2.39 would keep its content despite empty-file, rules_wharf refuses to differ silently (drop the mutation, or use permissions)", n.Origin.Label)
	}
	n.Data, n.dirty = []byte{}, true
	return nil
}

// hardlink replaces what is at p by a hard link to source, which is no directory.
func (f *FS) hardlink(p, source string) error {
	if _, err := split(source); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	if err := f.parents(p); err != nil {
		return err
	}
	srcReal, src, err := f.stat(source)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	if src.Kind == Dir {
		return fmt.Errorf("source /%s is a directory", srcReal)
	}
	real, existing, err := f.resolve(p, false)
	if err != nil {
		return err
	}
	if existing != nil {
		// apko removes the entry at path when path resolves (a symlink goes, not its
		// target); a dangling symlink stays and makes the link fail.
		if _, _, err := f.stat(p); err != nil {
			return perr(real, "already exists")
		}
		if existing.Kind == Dir {
			return perr(real, "is a directory; replacing it by a hard link is not supported")
		}
	}
	f.nodes[real] = src
	return nil
}

// symlink makes p, which must not exist, a symlink to source.
func (f *FS) symlink(p, source string) error {
	if err := f.parents(p); err != nil {
		return err
	}
	real, existing, err := f.resolve(p, false)
	if err != nil {
		return err
	}
	if existing != nil {
		return perr(real, "already exists (a %s)", existing.Kind)
	}
	link := &Node{Kind: Symlink, Mode: 0o777, Link: source, Origin: Origin{Pkg: -1}, dirty: true}
	f.nodes[real] = link
	f.markCreated(link)
	return nil
}

// parents is tarfs MkdirAll(dir(p), 0755).
func (f *FS) parents(p string) error {
	_, err := f.mkdirAll(path.Dir("/"+strings.TrimPrefix(p, "/")), 0o755)
	return err
}

// owner is the uid:gid a mutation gives; nil leaves the owner as it is.
type owner struct{ uid, gid int }

// ownerOf is apko v1.2.39's mutatePermissionsDirect: chown only when uid or gid is set,
// the one not set being 0.
func ownerOf(m apkoconfig.PathMutation) *owner {
	if m.UID == nil && m.GID == nil {
		return nil
	}
	o := &owner{}
	if m.UID != nil {
		o.uid = int(*m.UID)
	}
	if m.GID != nil {
		o.gid = int(*m.GID)
	}
	return o
}

// chmodPath is apko's mutatePermissions: chmod (and chown) what p resolves to, and with
// recursive, fs.WalkDir from there: every entry below, symlinks not descended into but, as
// chmod follows them, their targets changed (and required to exist).
func (f *FS) chmodPath(p string, perm int64, own *owner, recursive bool) error {
	if !recursive {
		return f.chmodChown(p, perm, own)
	}
	real, _, err := f.stat(p)
	if err != nil {
		return err
	}
	var below []string
	prefix := real + "/"
	if real == "" {
		prefix = ""
	}
	for q := range f.nodes {
		if q != "" && strings.HasPrefix(q, prefix) {
			below = append(below, q)
		}
	}
	sort.Strings(below)
	for _, q := range append([]string{real}, below...) {
		if err := f.chmodChown(q, perm, own); err != nil {
			return err
		}
	}
	return nil
}
