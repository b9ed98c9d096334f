package verbs

import (
	"fmt"
	"io"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

func layerVerb(args []string) error {
	var files, execFiles, dataFiles, symlinks, dirs, modes, owners, ownerNames, mtimes, tars cli.Strings
	var mtimeFlag string
	defaults := map[string]*string{"default-owner": new(string), "default-owner-name": new(string), "default-file-mode": new(string), "default-dir-mode": new(string)}
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
	fs.StringVar(defaults["default-owner"], "default-owner", "", "UID:GID of every entry without --owner (default 0:0)")
	fs.StringVar(defaults["default-owner-name"], "default-owner-name", "", "UNAME:GNAME of every entry without --owner-name (default none)")
	fs.StringVar(defaults["default-file-mode"], "default-file-mode", "", "OCTAL mode of regular files without --mode (default 0755 if executable, else 0644; see --file)")
	fs.StringVar(defaults["default-dir-mode"], "default-dir-mode", "", "OCTAL mode of directories without --mode (default 0755)")
	fs.Var(&tars, "tar", "an existing .tar, .tar.gz or .tar.zst whose entries join the layer, after the other entries and checked by the same rules (repeatable); "+
		"global PAX headers (type 'g', e.g. the pax_global_header of `git archive`) are dropped")
	fs.StringVar(&mtimeFlag, "mtime", "", "mtime of every entry: RFC 3339 or Unix seconds (default 1970-01-01)")
	out := newLayerOutputs(fs, "output: the layer blob")
	out.listingFlag(fs)
	out.compressionFlags(fs, "gzip, zstd or none")
	out.createdByFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("blob", out.blob, "metadata", out.metadata); err != nil {
		return err
	}
	if err := out.parseCompression(); err != nil {
		return err
	}
	attrs, err := layerAttrs(map[string][]string{"mode": modes, "owner": owners, "owner-name": ownerNames, "path-mtime": mtimes}, defaults)
	if err != nil {
		return err
	}
	mtime := layer.Epoch
	if mtimeFlag != "" {
		if mtime, err = layer.ParseMtime(mtimeFlag); err != nil {
			return fmt.Errorf("--mtime: %w", err)
		}
	}
	entries, err := layerEntries(files, execFiles, dataFiles, symlinks, dirs)
	if err != nil {
		return err
	}
	if err := attrs.Apply(entries); err != nil {
		return err
	}
	return out.writeTar(func(w io.Writer) error {
		return layer.WriteTarWithArchives(w, entries, tars, mtime)
	}, nil)
}

// layerAttrs parses the per-path attribute flags (flag -> values) and the default ones
// (flag -> value), in a fixed order so that the first bad flag is always the same.
func layerAttrs(perPath map[string][]string, defaults map[string]*string) (*layer.Attrs, error) {
	attrs := layer.NewAttrs()
	for _, flag := range []string{"mode", "owner", "owner-name", "path-mtime"} {
		if err := attrs.SetPerPath(flag, perPath[flag]); err != nil {
			return nil, err
		}
	}
	for _, flag := range []string{"default-owner", "default-owner-name", "default-file-mode", "default-dir-mode"} {
		if err := attrs.SetDefault(flag, *defaults[flag]); err != nil {
			return nil, err
		}
	}
	return attrs, nil
}

// layerEntries collects the entries of --file, --exec-file, --data-file, --symlink and
// --dir, with their parent directories.
func layerEntries(files, execFiles, dataFiles, symlinks, dirs []string) ([]layer.Entry, error) {
	var in layer.Inputs
	for _, group := range []struct {
		flag  string
		files []string
		exec  layer.Exec
	}{{"file", files, layer.ExecFromSource}, {"exec-file", execFiles, layer.ExecYes}, {"data-file", dataFiles, layer.ExecNo}} {
		if err := in.AddFiles(group.flag, group.files, group.exec); err != nil {
			return nil, err
		}
	}
	if err := in.AddSymlinks(symlinks); err != nil {
		return nil, err
	}
	if err := in.AddDirs(dirs); err != nil {
		return nil, err
	}
	return in.Entries(), nil
}
