package apkfile

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path"
	"unicode/utf8"

	"github.com/rules-wharf/rules_wharf/tools/internal/ldso"
)

// Ldso is what /etc/ld.so.cache needs from a package, so the database action builds it from
// facts, never reading a package blob: the ELF facts of its regular files named like
// libraries and the content of its ld.so.conf files. apk-extract always writes it (empty as
// {}); facts without it were written before it existed.
type Ldso struct {
	Libs []LdsoLib  `json:"libs,omitempty"`
	Conf []LdsoConf `json:"conf,omitempty"`
}

// LdsoLib is a regular file named lib*.so* or ld-*.so* (ldso.IsLibName) and what its ELF
// header says, as apko reads it with debug/elf.
type LdsoLib struct {
	File    int      `json:"file"` // index in Facts.Files
	Machine uint16   `json:"machine,omitempty"`
	Sonames []string `json:"sonames,omitempty"`
	// SonamesBase64 replaces Sonames when a SONAME is not UTF-8 (JSON strings would not
	// keep its bytes).
	SonamesBase64 [][]byte `json:"sonames_base64,omitempty"`
	// NotShared says why the file is no library apko lists: not ELF, not a dynamic object,
	// an unreadable dynamic section (debug/elf's message).
	NotShared string `json:"not_shared,omitempty"`
}

// LdsoConf is the content of a regular file whose path names ld.so.conf (ldso.IsConfPath),
// up to ldso.MaxConf bytes.
type LdsoConf struct {
	File    int    `json:"file"`
	Content []byte `json:"content"`
}

// Names is the SONAMEs, from whichever field holds them.
func (l LdsoLib) Names() []string {
	if l.SonamesBase64 == nil {
		return l.Sonames
	}
	names := make([]string, len(l.SonamesBase64))
	for i, b := range l.SonamesBase64 {
		names[i] = string(b)
	}
	return names
}

// maxELFInMemory is the largest library read into memory; a larger one is spooled to a
// temporary file, so memory stays bounded whatever the package holds.
const maxELFInMemory = 8 << 20

// ldsoReader records a package's ld.so facts as its data tar streams by, reusing one buffer
// and one temporary file for its libraries.
type ldsoReader struct {
	facts Ldso
	buf   []byte
	tmp   *os.File
}

// close removes the temporary file, if one was made.
func (l *ldsoReader) close() {
	if l.tmp != nil {
		l.tmp.Close()
		os.Remove(l.tmp.Name())
	}
}

// keep records h (entry index i of the package) when the cache needs it, reading its
// content from r.
func (l *ldsoReader) keep(h *tar.Header, i int, r io.Reader) error {
	if h.Typeflag != tar.TypeReg {
		return nil
	}
	switch {
	case ldso.IsLibName(path.Base(h.Name)):
		lib, err := l.readLib(r, h.Size)
		if err != nil {
			return err
		}
		lib.File = i
		l.facts.Libs = append(l.facts.Libs, lib)
	case ldso.IsConfPath(h.Name) && h.Size <= ldso.MaxConf:
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		l.facts.Conf = append(l.facts.Conf, LdsoConf{File: i, Content: b})
	}
	return nil
}

// readLib reads a library's ELF facts as apko's getElfInfo: elf.NewFile, ET_DYN, DT_SONAME.
func (l *ldsoReader) readLib(r io.Reader, size int64) (LdsoLib, error) {
	ra, err := l.spool(r, size)
	if err != nil {
		return LdsoLib{}, err
	}
	f, err := elf.NewFile(ra)
	if err != nil {
		return LdsoLib{NotShared: err.Error()}, nil
	}
	if f.Type != elf.ET_DYN {
		return LdsoLib{NotShared: "not a dynamic object"}, nil
	}
	sonames, err := f.DynString(elf.DT_SONAME)
	if err != nil {
		return LdsoLib{NotShared: err.Error()}, nil
	}
	lib := LdsoLib{Machine: uint16(f.Machine), Sonames: sonames}
	for _, s := range sonames {
		if !utf8.ValidString(s) {
			lib.Sonames = nil
			for _, s := range sonames {
				lib.SonamesBase64 = append(lib.SonamesBase64, []byte(s))
			}
			break
		}
	}
	return lib, nil
}

// spool makes r's size bytes readable at any offset: in memory up to maxELFInMemory, else
// in the temporary file.
func (l *ldsoReader) spool(r io.Reader, size int64) (io.ReaderAt, error) {
	if size <= maxELFInMemory {
		if int64(cap(l.buf)) < size {
			l.buf = make([]byte, size)
		}
		b := l.buf[:size]
		_, err := io.ReadFull(r, b)
		return bytes.NewReader(b), err
	}
	if l.tmp == nil {
		f, err := os.CreateTemp("", "wharf-elf-*")
		if err != nil {
			return nil, fmt.Errorf("spooling a library: %w", err)
		}
		l.tmp = f
	}
	if err := l.tmp.Truncate(0); err != nil {
		return nil, fmt.Errorf("spooling a library: %w", err)
	}
	if _, err := io.Copy(io.NewOffsetWriter(l.tmp, 0), r); err != nil {
		return nil, fmt.Errorf("spooling a library: %w", err)
	}
	return io.NewSectionReader(l.tmp, 0, size), nil
}
