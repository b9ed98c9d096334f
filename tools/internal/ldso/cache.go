package ldso

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// Flags of a cache entry (glibc's FLAG_ELF_LIBC6 with the ABI bits): apko writes the
// x86-64 or AArch64 64-bit flag and knows no other machine.
const (
	flagsX8664   = 0x0303
	flagsAArch64 = 0x0a03
)

// entry is one library of the cache: its path and glibc flags.
type entry struct {
	name  string
	flags uint32
}

// Cache is /etc/ld.so.cache as apko v1.2.39 writes it for the filesystem, or nil when there
// is no /etc/ld.so.conf (apko then writes none). The directories searched are /lib, then
// those ld.so.conf names; each library is listed under every name in them that is its
// SONAME or the SONAME's unversioned ".so" name.
func (t *Tree) Cache() ([]byte, error) {
	if _, err := t.Stat("etc/ld.so.conf"); err != nil {
		return nil, nil
	}
	dirs, err := t.parseConf("etc/ld.so.conf", nil)
	if err != nil {
		return nil, fmt.Errorf("ld.so.cache: parsing /etc/ld.so.conf: %w", err)
	}
	var all []entry
	for _, d := range append([]string{"/lib"}, dirs...) {
		es, err := t.scanDir(d)
		if err != nil {
			return nil, fmt.Errorf("ld.so.cache: library directory %s: %w", d, err)
		}
		all = append(all, es...)
	}
	// ld.so binary-searches the cache with _dl_cache_libcmp; apko sorts descending by it
	// with slices.SortFunc, so entries that compare equal land in the same order here.
	slices.SortFunc(all, func(a, b entry) int {
		return -libcmp(filepath.Base(a.name), filepath.Base(b.name))
	})
	return encode(all), nil
}

// scanDir lists a library directory's entries as apko's ldsoCacheEntriesForDir: by file
// name, one entry per name whose SONAME (or its ".so" name) it is.
func (t *Tree) scanDir(dir string) ([]entry, error) {
	if filepath.IsAbs(dir) {
		dir, _ = filepath.Rel("/", dir)
	}
	des, err := t.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, de := range des {
		realname := de.Name()
		if !IsLibName(realname) {
			continue
		}
		p := filepath.Join(dir, realname)
		lib, err := t.libAt(p, de)
		if err != nil || lib == nil {
			return nil, err
		}
		if lib.NotShared != "" {
			continue
		}
		var flags uint32
		switch elf.Machine(lib.Machine) {
		case elf.EM_X86_64:
			flags = flagsX8664
		case elf.EM_AARCH64:
			flags = flagsAArch64
		default:
			return nil, fmt.Errorf("%s is a shared object for %v: apko v1.2.39 knows only x86_64 and aarch64 "+
				"libraries and fails on it too", t.where(p), elf.Machine(lib.Machine))
		}
		if matchesSoname(realname, lib.Sonames) {
			out = append(out, entry{name: filepath.Join("/", p), flags: flags})
		}
	}
	return out, nil
}

// libAt is what the library named p says, or NotShared when apko would skip it (neither a
// regular file nor a symlink to one, unreadable); a Refusal when the facts do not say.
func (t *Tree) libAt(p string, de fs.DirEntry) (*Lib, error) {
	skip := &Lib{NotShared: "not a regular file"}
	switch de.Type() {
	case 0:
	case fs.ModeSymlink:
		if n, err := t.lookup(p, 0); err != nil || n.kind != kindFile {
			return skip, nil
		}
	default:
		return skip, nil
	}
	n, err := t.open(p, 0)
	if err != nil {
		return skip, nil
	}
	if n.file.Lib == nil {
		if n.file.Size == 0 {
			return &Lib{NotShared: "empty"}, nil
		}
		return nil, refuse("/%s leads to %s, whose ELF header the package facts do not hold "+
			"(apk-extract reads it for regular files named lib*.so* or ld-*.so*)", p, n.where())
	}
	lib := *n.file.Lib
	// apko lists a ".so" file without a SONAME under its own name (ldconfig does too).
	if len(lib.Sonames) == 0 && strings.HasSuffix(de.Name(), ".so") {
		lib.Sonames = []string{de.Name()}
	}
	return &lib, nil
}

// where names the file at p for a message, with its package.
func (t *Tree) where(p string) string {
	if n, err := t.open(p, 0); err == nil {
		if n.path != filepath.Clean(p) {
			return fmt.Sprintf("/%s (%s)", p, n.where())
		}
		return n.where()
	}
	return "/" + p
}

// matchesSoname says whether a library file named realname is listed: it is one of its
// SONAMEs, or a SONAME's ".so" link name.
func matchesSoname(realname string, sonames []string) bool {
	for _, s := range sonames {
		stem, _, ok := splitLibName(s)
		if ok && (realname == s || realname == stem+".so") {
			return true
		}
	}
	return false
}

// IsLibName says whether ldconfig (and apko) look at a file of this name: lib*.so* or ld-*.so*.
func IsLibName(name string) bool {
	_, _, ok := splitLibName(name)
	return ok
}

// splitLibName splits "libfoo.so.1" into "libfoo" and "1" ("libbar.so": "libbar", "") as
// apko's ParseLibFilename.
func splitLibName(name string) (stem, version string, ok bool) {
	if !strings.HasPrefix(name, "lib") && !strings.HasPrefix(name, "ld-") {
		return "", "", false
	}
	if s, found := strings.CutSuffix(name, ".so"); found {
		return s, "", true
	}
	i := strings.LastIndex(name, ".so.")
	if i < 1 {
		return "", "", false
	}
	return name[:i], name[i+len(".so."):], true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// libcmp is glibc's _dl_cache_libcmp: runs of digits compare as numbers, and a digit is
// greater than any other byte in the same place.
func libcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch x, y := a[i], b[j]; {
		case isDigit(x) && isDigit(y):
			var m, n int
			for ; i < len(a) && isDigit(a[i]); i++ {
				m = m*10 + int(a[i]-'0')
			}
			for ; j < len(b) && isDigit(b[j]); j++ {
				n = n*10 + int(b[j]-'0')
			}
			if m != n {
				return cmp.Compare(m, n)
			}
		case isDigit(x):
			return 1
		case isDigit(y):
			return -1
		case x != y:
			return cmp.Compare(x, y)
		default:
			i, j = i+1, j+1
		}
	}
	return cmp.Compare(len(a)-i, len(b)-j)
}

// Sizes of the new-format ("glibc-ld.so.cache1.1") header and entry, little-endian.
const (
	headerSize = 48
	entrySize  = 24
)

// encode writes the cache as apko does: the header (magic, version, entry count, string table
// size, no flags, no extensions), the entries, the string table of full paths (each entry's
// key the name after its directory), and zeros up to the next multiple of 16 (16 when already
// aligned).
func encode(es []entry) []byte {
	strStart := headerSize + entrySize*len(es)
	var strs []byte
	b := make([]byte, strStart)
	copy(b, "glibc-ld.so.cache1.1")
	le := binary.LittleEndian
	le.PutUint32(b[20:], uint32(len(es)))
	for i, e := range es {
		off := uint32(strStart + len(strs))
		rec := b[headerSize+i*entrySize:]
		le.PutUint32(rec[0:], e.flags)
		le.PutUint32(rec[4:], off+uint32(len(filepath.Dir(e.name))+1))
		le.PutUint32(rec[8:], off)
		strs = append(append(strs, e.name...), 0)
	}
	le.PutUint32(b[24:], uint32(len(strs)))
	b = append(b, strs...)
	return append(b, make([]byte, 16-len(b)%16)...)
}
