package verbs

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

func layerVerb(args []string) error {
	var files, symlinks, dirs, modes, owners, tars cli.Strings
	var compression, blobOut, metaOut, createdBy, mtimeFlag string
	var level int
	fs := newFlags("layer")
	fs.Var(&files, "file", "DEST=SRC: put file SRC at DEST (repeatable)")
	fs.Var(&symlinks, "symlink", "DEST=TARGET: a symlink (repeatable)")
	fs.Var(&dirs, "dir", "DEST: an empty directory (repeatable)")
	fs.Var(&modes, "mode", "DEST=OCTAL: permission bits for DEST (repeatable)")
	fs.Var(&owners, "owner", "DEST=UID:GID: owner of DEST (repeatable)")
	fs.Var(&tars, "tar", "an existing .tar, .tar.gz or .tar.zst whose entries join the layer (repeatable)")
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
	modeOf := map[string]int64{}
	for _, m := range modes {
		dest, octal, ok := strings.Cut(m, "=")
		if !ok {
			return fmt.Errorf("--mode %q: want DEST=OCTAL", m)
		}
		p, err := layer.CleanPath(dest)
		if err != nil {
			return fmt.Errorf("--mode: %w", err)
		}
		if modeOf[p], err = layer.Mode(octal); err != nil {
			return fmt.Errorf("--mode %s: %w", dest, err)
		}
	}
	ownerOf := map[string][2]int{}
	for _, o := range owners {
		dest, ids, ok := strings.Cut(o, "=")
		var uid, gid int
		if _, err := fmt.Sscanf(ids, "%d:%d", &uid, &gid); !ok || err != nil || uid < 0 || gid < 0 {
			return fmt.Errorf("--owner %q: want DEST=UID:GID", o)
		}
		p, err := layer.CleanPath(dest)
		if err != nil {
			return fmt.Errorf("--owner: %w", err)
		}
		ownerOf[p] = [2]int{uid, gid}
	}
	mtime := layer.Epoch
	if mtimeFlag != "" {
		if secs, err := strconv.ParseInt(mtimeFlag, 10, 64); err == nil {
			mtime = time.Unix(secs, 0).UTC()
		} else if mtime, err = time.Parse(time.RFC3339, mtimeFlag); err != nil {
			return fmt.Errorf("--mtime %q: want RFC 3339 or Unix seconds", mtimeFlag)
		}
	}
	var entries []layer.Entry
	add := func(e layer.Entry) error {
		p, err := layer.CleanPath(e.Path)
		if err != nil {
			return err
		}
		e.Path, e.Mode = p, modeOf[p]
		delete(modeOf, p)
		if o, ok := ownerOf[p]; ok {
			e.UID, e.GID = o[0], o[1]
			delete(ownerOf, p)
		}
		entries = append(entries, e)
		return nil
	}
	for _, f := range files {
		dest, src, ok := strings.Cut(f, "=")
		if !ok || src == "" {
			return fmt.Errorf("--file %q: want DEST=SRC", f)
		}
		tree, err := layer.ExpandDir(dest, src)
		if err != nil {
			return fmt.Errorf("--file %s: %w", f, err)
		}
		for _, e := range tree {
			if err := add(e); err != nil {
				return fmt.Errorf("--file: %w", err)
			}
		}
	}
	for _, s := range symlinks {
		dest, target, ok := strings.Cut(s, "=")
		if !ok || target == "" {
			return fmt.Errorf("--symlink %q: want DEST=TARGET", s)
		}
		if err := add(layer.Entry{Path: dest, Linkname: target}); err != nil {
			return fmt.Errorf("--symlink: %w", err)
		}
	}
	for _, d := range dirs {
		if err := add(layer.Entry{Path: d, Dir: true}); err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
	}
	for p := range modeOf {
		return fmt.Errorf("--mode for /%s, which is not in the layer", p)
	}
	for p := range ownerOf {
		return fmt.Errorf("--owner for /%s, which is not in the layer", p)
	}

	return writeLayer(blobOut, metaOut, c, level, createdBy, func(w io.Writer) error {
		return layer.WriteTarWithArchives(w, entries, tars, mtime)
	})
}
