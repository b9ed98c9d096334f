package verbs

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

func layerVerb(args []string) error {
	var files, execFiles, dataFiles, symlinks, dirs, modes, owners, ownerNames, mtimes, tars cli.Strings
	var compression, blobOut, metaOut, createdBy, mtimeFlag string
	var defaultOwner, defaultOwnerName, defaultFileMode, defaultDirMode string
	var level int
	fs := newFlags("layer")
	fs.Var(&files, "file", "DEST=SRC: put file (or directory) SRC at DEST, executable (0755) if SRC has an executable bit (repeatable)")
	fs.Var(&execFiles, "exec-file", "DEST=SRC: as --file, executable whatever SRC's bits (repeatable)")
	fs.Var(&dataFiles, "data-file", "DEST=SRC: as --file, not executable (0644) whatever SRC's bits (repeatable)")
	fs.Var(&symlinks, "symlink", "DEST=TARGET: a symlink (repeatable)")
	fs.Var(&dirs, "dir", "DEST: an empty directory (repeatable)")
	fs.Var(&modes, "mode", "DEST=OCTAL: permission bits for DEST (repeatable)")
	fs.Var(&owners, "owner", "DEST=UID:GID: owner of DEST (repeatable)")
	fs.Var(&ownerNames, "owner-name", "DEST=UNAME:GNAME: owner names of DEST (repeatable)")
	fs.Var(&mtimes, "path-mtime", "DEST=TIME: mtime of DEST, RFC 3339 or Unix seconds (repeatable)")
	fs.StringVar(&defaultOwner, "default-owner", "", "UID:GID of every entry without --owner (default 0:0)")
	fs.StringVar(&defaultOwnerName, "default-owner-name", "", "UNAME:GNAME of every entry without --owner-name (default none)")
	fs.StringVar(&defaultFileMode, "default-file-mode", "", "OCTAL mode of regular files without --mode (default 0755 if executable, else 0644; see --file)")
	fs.StringVar(&defaultDirMode, "default-dir-mode", "", "OCTAL mode of directories without --mode (default 0755)")
	fs.Var(&tars, "tar", "an existing .tar, .tar.gz or .tar.zst whose entries join the layer, after the other entries and checked by the same rules (repeatable); "+
		"global PAX headers (type 'g', e.g. the pax_global_header of `git archive`) are dropped")
	fs.StringVar(&mtimeFlag, "mtime", "", "mtime of every entry: RFC 3339 or Unix seconds (default 1970-01-01)")
	fs.StringVar(&compression, "compression", "gzip", "gzip, zstd or none")
	fs.IntVar(&level, "level", -1, "compression level (-1: default)")
	fs.StringVar(&blobOut, "blob", "", "output: the layer blob")
	fs.StringVar(&metaOut, "metadata", "", "output: layer metadata JSON")
	fs.StringVar(&createdBy, "created-by", "", "history entry text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("blob", blobOut, "metadata", metaOut); err != nil {
		return err
	}
	c, err := layer.ParseCompression(compression)
	if err != nil {
		return err
	}
	// perPath parses DEST=VALUE flags into cleaned paths.
	perPath := func(flag string, values []string, parse func(string) error, set func(p string)) error {
		for _, v := range values {
			dest, val, ok := strings.Cut(v, "=")
			if !ok {
				return fmt.Errorf("--%s %q: want DEST=VALUE", flag, v)
			}
			p, err := layer.CleanPath(dest)
			if err != nil {
				return fmt.Errorf("--%s: %w", flag, err)
			}
			if err := parse(val); err != nil {
				return fmt.Errorf("--%s %s: %w", flag, dest, err)
			}
			set(p)
		}
		return nil
	}
	var mode int64
	var ids [2]int
	var names [2]string
	var when time.Time
	parseMode := func(v string) (err error) { mode, err = layer.Mode(v); return err }
	parseIDs := func(v string) error { ids, err = parseOwner(v); return err }
	parseNames := func(v string) error { names, err = parseOwnerName(v); return err }
	parseTime := func(v string) error { when, err = parseMtime(v); return err }

	modeOf := map[string]int64{}
	ownerOf := map[string][2]int{}
	nameOf := map[string][2]string{}
	mtimeOf := map[string]time.Time{}
	if err := perPath("mode", modes, parseMode, func(p string) { modeOf[p] = mode }); err != nil {
		return err
	}
	if err := perPath("owner", owners, parseIDs, func(p string) { ownerOf[p] = ids }); err != nil {
		return err
	}
	if err := perPath("owner-name", ownerNames, parseNames, func(p string) { nameOf[p] = names }); err != nil {
		return err
	}
	if err := perPath("path-mtime", mtimes, parseTime, func(p string) { mtimeOf[p] = when }); err != nil {
		return err
	}
	var defOwner [2]int
	var defNames [2]string
	var defFile, defDir int64
	for _, d := range []struct {
		flag, v string
		parse   func(string) error
		set     func()
	}{
		{"default-owner", defaultOwner, parseIDs, func() { defOwner = ids }},
		{"default-owner-name", defaultOwnerName, parseNames, func() { defNames = names }},
		{"default-file-mode", defaultFileMode, parseMode, func() { defFile = mode }},
		{"default-dir-mode", defaultDirMode, parseMode, func() { defDir = mode }},
	} {
		if d.v == "" {
			continue
		}
		if err := d.parse(d.v); err != nil {
			return fmt.Errorf("--%s: %w", d.flag, err)
		}
		d.set()
	}
	mtime := layer.Epoch
	if mtimeFlag != "" {
		if mtime, err = parseMtime(mtimeFlag); err != nil {
			return fmt.Errorf("--mtime: %w", err)
		}
	}

	var entries []layer.Entry
	explicit := map[string]bool{}
	add := func(e layer.Entry) error {
		p, err := layer.CleanPath(e.Path)
		if err != nil {
			return err
		}
		e.Path = p
		explicit[p] = true
		entries = append(entries, e)
		return nil
	}
	for _, group := range []struct {
		flag  string
		files []string
		exec  layer.Exec
	}{{"file", files, layer.ExecFromSource}, {"exec-file", execFiles, layer.ExecYes}, {"data-file", dataFiles, layer.ExecNo}} {
		for _, f := range group.files {
			dest, src, ok := strings.Cut(f, "=")
			if !ok || src == "" {
				return fmt.Errorf("--%s %q: want DEST=SRC", group.flag, f)
			}
			tree, err := layer.ExpandDir(dest, src, group.exec)
			if err != nil {
				return fmt.Errorf("--%s %s: %w", group.flag, f, err)
			}
			for _, e := range tree {
				e.Input = fmt.Sprintf("--%s=%s (files)", group.flag, f)
				if err := add(e); err != nil {
					return fmt.Errorf("--%s: %w", group.flag, err)
				}
			}
		}
	}
	for _, s := range symlinks {
		dest, target, ok := strings.Cut(s, "=")
		if !ok || target == "" {
			return fmt.Errorf("--symlink %q: want DEST=TARGET", s)
		}
		if err := add(layer.Entry{Path: dest, Linkname: target, Input: "--symlink=" + s + " (symlinks)"}); err != nil {
			return fmt.Errorf("--symlink: %w", err)
		}
	}
	for _, d := range dirs {
		if err := add(layer.Entry{Path: d, Dir: true, Input: "--dir=" + d + " (empty_dirs)"}); err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
	}
	// Parent directories the tar writer would add are made here, so that defaults and
	// per-path settings reach them too.
	for _, e := range entries {
		for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
			if !explicit[d] {
				explicit[d] = true
				entries = append(entries, layer.Entry{Path: d, Dir: true, Input: e.Input, ParentOf: e.Path})
			}
		}
	}
	for i := range entries {
		e := &entries[i]
		p := e.Path
		e.UID, e.GID = defOwner[0], defOwner[1]
		e.Uname, e.Gname = defNames[0], defNames[1]
		switch {
		case e.Dir:
			e.Mode = defDir
		case e.Linkname == "":
			e.Mode = defFile
		}
		if m, ok := modeOf[p]; ok {
			e.Mode = m
		}
		if o, ok := ownerOf[p]; ok {
			e.UID, e.GID = o[0], o[1]
		}
		if n, ok := nameOf[p]; ok {
			e.Uname, e.Gname = n[0], n[1]
		}
		if t, ok := mtimeOf[p]; ok {
			e.MTime = t
		}
	}
	for flag, m := range map[string][]string{"mode": keys(modeOf), "owner": keys(ownerOf), "owner-name": keys(nameOf), "path-mtime": keys(mtimeOf)} {
		for _, p := range m {
			if !explicit[p] {
				return fmt.Errorf("--%s for /%s, which is not in the layer", flag, p)
			}
		}
	}

	return writeLayer(blobOut, metaOut, c, level, createdBy, func(w io.Writer) error {
		return layer.WriteTarWithArchives(w, entries, tars, mtime)
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func parseOwner(v string) ([2]int, error) {
	u, g, ok := strings.Cut(v, ":")
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	if !ok || err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return [2]int{}, fmt.Errorf("%q: want UID:GID (numbers)", v)
	}
	return [2]int{uid, gid}, nil
}

// parseOwnerName takes UNAME:GNAME; either may be empty, not both.
func parseOwnerName(v string) ([2]string, error) {
	u, g, ok := strings.Cut(v, ":")
	valid := func(s string) bool {
		return len(s) <= 32 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == "" && !strings.HasPrefix(s, "-")
	}
	if !ok || (u == "" && g == "") || !valid(u) || !valid(g) {
		return [2]string{}, fmt.Errorf("%q: want UNAME:GNAME (letters, digits, . _ -; at most 32 each)", v)
	}
	return [2]string{u, g}, nil
}

func parseMtime(v string) (time.Time, error) {
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 or Unix seconds", v)
	}
	return t.UTC(), nil
}
