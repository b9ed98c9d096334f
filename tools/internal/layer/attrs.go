package layer

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Attrs are the attributes a layer's entries get beyond their content: per path (mode,
// owner, owner names, mtime) and by default. Values are parsed from the layer verb's flags,
// whose names errors use.
type Attrs struct {
	mode      map[string]int64
	owner     map[string][2]int
	ownerName map[string][2]string
	mtime     map[string]time.Time

	defOwner     [2]int
	defOwnerName [2]string
	defFile      int64
	defDir       int64
}

// NewAttrs returns attributes that leave every entry as it is but owned by 0:0.
func NewAttrs() *Attrs {
	return &Attrs{mode: map[string]int64{}, owner: map[string][2]int{}, ownerName: map[string][2]string{}, mtime: map[string]time.Time{}}
}

// SetPerPath parses the DEST=VALUE values of flag mode, owner, owner-name or path-mtime.
func (a *Attrs) SetPerPath(flag string, values []string) error {
	for _, v := range values {
		dest, val, ok := strings.Cut(v, "=")
		if !ok {
			return fmt.Errorf("--%s %q: want DEST=VALUE", flag, v)
		}
		p, err := CleanPath(dest)
		if err != nil {
			return fmt.Errorf("--%s: %w", flag, err)
		}
		if err := a.set(flag, p, val); err != nil {
			return fmt.Errorf("--%s %s: %w", flag, dest, err)
		}
	}
	return nil
}

func (a *Attrs) set(flag, p, val string) error {
	var err error
	switch flag {
	case "mode":
		var m int64
		m, err = Mode(val)
		a.mode[p] = m
	case "owner":
		var ids [2]int
		ids, err = ParseOwner(val)
		a.owner[p] = ids
	case "owner-name":
		var names [2]string
		names, err = ParseOwnerName(val)
		a.ownerName[p] = names
	case "path-mtime":
		var t time.Time
		t, err = ParseMtime(val)
		a.mtime[p] = t
	default:
		return fmt.Errorf("no per-path attribute %s", flag)
	}
	return err
}

// SetDefault parses flag default-owner, default-owner-name, default-file-mode or
// default-dir-mode; an empty value leaves the default as it is.
func (a *Attrs) SetDefault(flag, v string) error {
	if v == "" {
		return nil
	}
	var err error
	switch flag {
	case "default-owner":
		a.defOwner, err = ParseOwner(v)
	case "default-owner-name":
		a.defOwnerName, err = ParseOwnerName(v)
	case "default-file-mode":
		a.defFile, err = Mode(v)
	case "default-dir-mode":
		a.defDir, err = Mode(v)
	default:
		err = fmt.Errorf("no default attribute")
	}
	if err != nil {
		return fmt.Errorf("--%s: %w", flag, err)
	}
	return nil
}

// Apply gives every entry its attributes: the defaults, then its path's own. It refuses a
// per-path attribute for a path that is no entry.
func (a *Attrs) Apply(entries []Entry) error {
	explicit := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		p := e.Path
		explicit[p] = true
		e.UID, e.GID = a.defOwner[0], a.defOwner[1]
		e.Uname, e.Gname = a.defOwnerName[0], a.defOwnerName[1]
		switch {
		case e.Dir:
			e.Mode = a.defDir
		case e.Linkname == "":
			e.Mode = a.defFile
		}
		if m, ok := a.mode[p]; ok {
			e.Mode = m
		}
		if o, ok := a.owner[p]; ok {
			e.UID, e.GID = o[0], o[1]
		}
		if n, ok := a.ownerName[p]; ok {
			e.Uname, e.Gname = n[0], n[1]
		}
		if t, ok := a.mtime[p]; ok {
			e.MTime = t
		}
	}
	for flag, m := range map[string][]string{"mode": keys(a.mode), "owner": keys(a.owner), "owner-name": keys(a.ownerName), "path-mtime": keys(a.mtime)} {
		for _, p := range m {
			if !explicit[p] {
				return fmt.Errorf("--%s for /%s, which is not in the layer", flag, p)
			}
		}
	}
	return nil
}

// Inputs collects a layer's entries from files, symlinks and empty directories, each
// path once; Entries adds the parent directories.
type Inputs struct {
	entries  []Entry
	explicit map[string]bool
}

func (in *Inputs) add(e Entry) error {
	p, err := CleanPath(e.Path)
	if err != nil {
		return err
	}
	if in.explicit == nil {
		in.explicit = map[string]bool{}
	}
	e.Path = p
	in.explicit[p] = true
	in.entries = append(in.entries, e)
	return nil
}

// AddFiles adds flag's DEST=SRC values: the file or directory tree SRC at DEST.
func (in *Inputs) AddFiles(flag string, values []string, exec Exec) error {
	dests, srcs := make([]string, len(values)), make([]string, len(values))
	for i, f := range values {
		dest, src, ok := strings.Cut(f, "=")
		if !ok || src == "" {
			return fmt.Errorf("--%s %q: want DEST=SRC", flag, f)
		}
		dests[i], srcs[i] = dest, src
	}
	stats := statAll(srcs)
	in.grow(len(values))
	for i, f := range values {
		input := "--" + flag + "=" + f + " (files)"
		if stats[i].err != nil {
			return fmt.Errorf("--%s %s: %w", flag, f, stats[i].err)
		}
		if !stats[i].dir {
			if err := in.add(Entry{Path: dests[i], Source: srcs[i], Exec: exec, Input: input, read: stats[i].read}); err != nil {
				return fmt.Errorf("--%s: %w", flag, err)
			}
			continue
		}
		// A directory (a tree artifact or a source directory): few, so stat'ed again.
		tree, err := ExpandDir(dests[i], srcs[i], exec)
		if err != nil {
			return fmt.Errorf("--%s %s: %w", flag, f, err)
		}
		for _, e := range tree {
			e.Input = input
			if err := in.add(e); err != nil {
				return fmt.Errorf("--%s: %w", flag, err)
			}
		}
	}
	return nil
}

// grow makes room for n more entries: a layer of 100,000 files otherwise copies its
// entries (about 200 bytes each) and rehashes its path set over and over.
func (in *Inputs) grow(n int) {
	if in.explicit == nil {
		in.explicit = make(map[string]bool, n)
	}
	// Room for their parent directories too, usually a few: growing past it copies them all.
	in.entries = slices.Grow(in.entries, n+n/16+16)
}

// AddSymlinks adds --symlink DEST=TARGET values.
func (in *Inputs) AddSymlinks(values []string) error {
	for _, s := range values {
		dest, target, ok := strings.Cut(s, "=")
		if !ok || target == "" {
			return fmt.Errorf("--symlink %q: want DEST=TARGET", s)
		}
		if err := in.add(Entry{Path: dest, Linkname: target, Input: "--symlink=" + s + " (symlinks)"}); err != nil {
			return fmt.Errorf("--symlink: %w", err)
		}
	}
	return nil
}

// AddDirs adds --dir DEST values: empty directories.
func (in *Inputs) AddDirs(values []string) error {
	for _, d := range values {
		if err := in.add(Entry{Path: d, Dir: true, Input: "--dir=" + d + " (empty_dirs)"}); err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
	}
	return nil
}

// Entries returns the entries with the parent directories the tar writer would add, made
// here so that defaults and per-path attributes reach them too.
func (in *Inputs) Entries() []Entry {
	if in.explicit == nil {
		in.explicit = map[string]bool{}
	}
	// The parents go to a slice of their own, appended once: appending them one by one to
	// 100,000 entries would copy the entries again.
	var parents []Entry
	for _, e := range in.entries {
		for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
			if !in.explicit[d] {
				in.explicit[d] = true
				parents = append(parents, Entry{Path: d, Dir: true, Input: e.Input, ParentOf: e.Path})
			}
		}
	}
	in.entries = append(in.entries, parents...)
	return in.entries
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ParseOwner parses UID:GID.
func ParseOwner(v string) ([2]int, error) {
	u, g, ok := strings.Cut(v, ":")
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	if !ok || err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return [2]int{}, fmt.Errorf("%q: want UID:GID (numbers)", v)
	}
	return [2]int{uid, gid}, nil
}

// ParseOwnerName parses UNAME:GNAME; either may be empty, not both.
func ParseOwnerName(v string) ([2]string, error) {
	u, g, ok := strings.Cut(v, ":")
	valid := func(s string) bool {
		return len(s) <= 32 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == "" && !strings.HasPrefix(s, "-")
	}
	if !ok || (u == "" && g == "") || !valid(u) || !valid(g) {
		return [2]string{}, fmt.Errorf("%q: want UNAME:GNAME (letters, digits, . _ -; at most 32 each)", v)
	}
	return [2]string{u, g}, nil
}

// ParseMtime parses an mtime: RFC 3339 or Unix seconds.
func ParseMtime(v string) (time.Time, error) {
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 or Unix seconds", v)
	}
	return t.UTC(), nil
}
