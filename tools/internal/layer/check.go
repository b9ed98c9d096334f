package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"path"
)

// The rules every entry of a layer follows, whichever input it comes from (files, symlinks,
// directories, the entries of tars), checked by one checker as each entry is written. They
// are the rules the APK path applies to a package's data tar:
//
//   - names are cleaned and relative ("/usr/./bin/" is written "usr/bin/"); a name with a
//     ".." segment, or naming the root, is an error;
//   - nothing is written through a symlink written earlier in the layer ("lnk/passwd" after
//     "lnk -> /etc"), nor below any other non-directory ("a/b" after the file "a");
//   - one entry per path, except that a directory may be restated as a directory; a file and
//     a directory at one path is an error. A restated directory is written again (a stream
//     cannot take back what it wrote), so on extraction the later header's metadata wins, as
//     the APK scanner keeps a restated directory's later metadata;
//   - a symlink has a target;
//   - a hardlink's target is normalized as names are ("/x" is written "x"), may not leave
//     the root, and is a regular file written earlier in the layer.
//
// Directories an entry implies without stating them (a tar holding "usr/bin/x" but no
// "usr/") count as directories: a later "usr" that is not a directory is an error.
//
// The checker keeps one small record per path written (its type and where it came from),
// never contents: memory grows with the number of entries, not with their sizes.

type kind uint8

const (
	kindDir kind = iota + 1
	kindFile
	kindSymlink
	kindHardlink
	kindChar
	kindBlock
	kindFifo
)

var kindNames = [...]string{
	kindDir: "a directory", kindFile: "a regular file", kindSymlink: "a symlink", kindHardlink: "a hardlink",
	kindChar: "a character device", kindBlock: "a block device", kindFifo: "a fifo",
}

func (k kind) String() string { return kindNames[k] }

// tarKinds are the tar entry types a layer input may hold (tar.Reader gives an old
// archive's TypeRegA entries as TypeReg or TypeDir).
var tarKinds = map[byte]kind{
	tar.TypeReg: kindFile, tar.TypeDir: kindDir, tar.TypeSymlink: kindSymlink,
	tar.TypeLink: kindHardlink, tar.TypeChar: kindChar, tar.TypeBlock: kindBlock, tar.TypeFifo: kindFifo,
}

// entryKind is the type writeEntry gives e.
func entryKind(e Entry) kind {
	switch {
	case e.CharDevice != nil:
		return kindChar
	case e.Data != nil:
		return kindFile
	case e.Dir:
		return kindDir
	case e.Linkname != "":
		return kindSymlink
	}
	return kindFile
}

// written is what the checker keeps about a path already in the layer.
type written struct {
	kind kind
	// input names where the entry came from ("tar x.tar", "--symlink=/lnk=/etc (symlinks)"),
	// or is empty.
	input string
	// parentOf, for a directory no input stated, is an entry below it.
	parentOf string
}

// describe says where w came from, for the end of a message: ` from tar x.tar`, `, the
// parent of "usr/bin/x" from tar x.tar`, or nothing.
func (w written) describe() string {
	s := ""
	if w.parentOf != "" {
		s = fmt.Sprintf(", the parent of %q", w.parentOf)
	}
	if w.input != "" {
		s += " from " + w.input
	}
	return s
}

// checker applies the rules above to each entry written, in the order written.
type checker struct {
	seen map[string]written
}

func newChecker() *checker { return &checker{seen: map[string]written{}} }

// check validates an entry about to be written and records it. name is the entry's name as
// given; linkname its target (symlinks and hardlinks); input where it came from and
// parentOf, for a directory added only because entries lie below it, one of them (both
// only for messages). It returns the cleaned name and, for a hardlink, the cleaned target.
func (c *checker) check(name string, k kind, linkname, input, parentOf string) (p, link string, err error) {
	fail := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if input != "" {
			msg = input + ": " + msg
		}
		return errors.New(msg)
	}
	p, err = CleanPath(name)
	if err != nil {
		return "", "", fail("%v", err)
	}
	// The nearest recorded ancestor decides: a directory's own ancestors were checked when
	// it was recorded.
	var implied []string
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		w, ok := c.seen[d]
		if !ok {
			implied = append(implied, d)
			continue
		}
		if w.kind == kindSymlink {
			return "", "", fail("entry %q is written through the symlink %q%s", p, d, w.describe())
		}
		if w.kind != kindDir {
			return "", "", fail("entry %q is below %q, which is %s%s", p, d, w.kind, w.describe())
		}
		break
	}
	switch k {
	case kindSymlink:
		if linkname == "" {
			return "", "", fail("symlink %q has no target", p)
		}
	case kindHardlink:
		if linkname == "" {
			return "", "", fail("hardlink %q has no target", p)
		}
		if link, err = CleanPath(linkname); err != nil {
			return "", "", fail("hardlink %q points outside the layer: %v", p, err)
		}
		if w, ok := c.seen[link]; !ok || w.kind != kindFile {
			return "", "", fail("hardlink %q points to %q, which is not an earlier regular file of the layer", p, link)
		}
	}
	if w, dup := c.seen[p]; dup {
		switch {
		case w.kind == kindDir && k == kindDir:
			// A directory restated: written again, the later header wins on extraction.
		case w.kind == kindDir || k == kindDir:
			return "", "", fail("entry %q is %s, but %q is already %s%s", p, k, p, w.kind, w.describe())
		default:
			return "", "", fail("entry %q appears twice: first as %s%s", p, w.kind, w.describe())
		}
	}
	for _, d := range implied {
		c.seen[d] = written{kind: kindDir, input: input, parentOf: p}
	}
	c.seen[p] = written{kind: k, input: input, parentOf: parentOf}
	return p, link, nil
}
