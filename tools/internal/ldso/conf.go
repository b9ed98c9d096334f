package ldso

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Refusal is an error apko v1.2.39 would not have given in the same place, because it reads
// the filesystem itself: a file whose content or ELF facts the package facts do not hold, or
// an include loop (where apko recurses without end). It fails the cache wherever it occurs.
type Refusal struct{ msg string }

func (r *Refusal) Error() string { return r.msg }

func refuse(format string, args ...any) error { return &Refusal{fmt.Sprintf(format, args...)} }

// MaxConf is the largest ld.so.conf file whose content apk-extract keeps.
const MaxConf = 1 << 20

// IsConfPath says whether apk-extract keeps a regular file's content for the cache: any
// path naming ld.so.conf (/etc/ld.so.conf, ld.so.conf.d/*.conf wherever an include looks).
func IsConfPath(p string) bool { return strings.Contains(p, "ld.so.conf") }

// content is what reading n gives, or a Refusal when the facts do not hold it.
func content(n *node) ([]byte, error) {
	if n.kind != kindFile || n.file.HasContent || n.file.Size == 0 {
		return n.file.Content, nil // a device or the directory tarfs opens read as empty
	}
	return nil, refuse("%s is read as an ld.so.conf file, but the package facts hold no content for it "+
		"(apk-extract keeps regular files whose path contains \"ld.so.conf\", up to %d bytes)", n.where(), MaxConf)
}

// parseConf reads an ld.so.conf file as apko's ParseLDSOConf: "#" comments, one directory a
// line taken whole, "include GLOB" matched from the root (a leading "/" dropped), each match
// parsed in turn and the file's remaining lines ignored (apko returns after the first
// include), a directory listed twice in the same file kept once. stack holds the files being
// read, to refuse an include loop.
func (t *Tree) parseConf(name string, stack []frame) ([]string, error) {
	n, err := t.open(name, 0)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(stack, func(f frame) bool { return f.n == n }); i >= 0 {
		return nil, refuse("ld.so.conf include loop: %s, which is %s again: apko v1.2.39 would include it without end",
			loopText(append(stack, frame{name, n})), n.where())
	}
	b, err := content(n)
	if err != nil {
		return nil, err
	}
	stack = append(stack, frame{name, n})
	sc := bufio.NewScanner(bytes.NewReader(b))
	var dirs []string
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if glob, ok := strings.CutPrefix(line, "include "); ok {
			glob = strings.TrimLeft(strings.TrimSpace(glob), "/")
			matches, err := fs.Glob(t, glob)
			if err != nil {
				continue // a bad pattern: apko goes on with the next line
			}
			return t.included(matches, dirs, stack)
		}
		if !slices.Contains(dirs, line) {
			dirs = append(dirs, line)
		}
	}
	if err := sc.Err(); err != nil {
		return dirs, fmt.Errorf("%s: %w", n.where(), err)
	}
	return dirs, nil
}

// included appends the directories of each included file to dirs; a file that cannot be
// read or parsed is skipped, as apko skips it, unless the reason is a Refusal.
func (t *Tree) included(matches, dirs []string, stack []frame) ([]string, error) {
	for _, m := range matches {
		inc, err := t.parseConf(m, stack)
		var r *Refusal
		if errors.As(err, &r) {
			return nil, err
		}
		if err != nil {
			continue
		}
		dirs = append(dirs, inc...)
	}
	return dirs, nil
}

// frame is a file being read: the name it was opened by, the file it is.
type frame struct {
	name string
	n    *node
}

func loopText(fs []frame) string {
	var s []string
	for _, f := range fs {
		s = append(s, "/"+f.name)
	}
	return strings.Join(s, " includes ")
}
