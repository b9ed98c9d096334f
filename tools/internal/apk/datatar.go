package apk

import (
	"archive/tar"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
)

// paxChecksum is the PAX record abuild writes with each file's sha1.
const paxChecksum = "APK-TOOLS.checksum.SHA1"

// Entry is one file of a package's data tar, as the installed database records it.
type Entry struct {
	Path     string `json:"path"` // cleaned, relative, no trailing slash
	Type     string `json:"type"` // file, dir, symlink, hardlink, char, block, fifo
	Mode     int64  `json:"mode"` // permission bits incl. setuid/setgid/sticky
	UID      int    `json:"uid"`
	GID      int    `json:"gid"`
	Size     int64  `json:"size,omitempty"`
	Linkname string `json:"linkname,omitempty"`
	// Checksum is "Q1"+base64(sha1) from the PAX record, when the package has one.
	Checksum string `json:"checksum,omitempty"`
}

var typeNames = map[byte]string{
	tar.TypeReg: "file", tar.TypeRegA: "file", tar.TypeDir: "dir", tar.TypeSymlink: "symlink",
	tar.TypeLink: "hardlink", tar.TypeChar: "char", tar.TypeBlock: "block", tar.TypeFifo: "fifo",
}

// cleanMemberPath validates a tar entry name: relative, no "..", not the root.
func cleanMemberPath(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("entry %q is an absolute path", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return "", fmt.Errorf("entry %q escapes the root with '..'", name)
		}
	}
	p := path.Clean(name)
	if p == "." || p == "" {
		return "", nil // the root itself ("./"): carries no file
	}
	return p, nil
}

// scanner checks data tar entries as they stream by and records them.
type scanner struct {
	entries  []Entry
	seen     map[string]int // path -> index in entries
	symlinks map[string]bool
}

func newScanner() *scanner {
	return &scanner{seen: map[string]int{}, symlinks: map[string]bool{}}
}

// add records h, refusing entries that would write outside the root: absolute or ".."
// names, hardlinks to paths outside the package, and any path that passes through a
// symlink the package itself created (a symlink pointing anywhere, then written through).
func (s *scanner) add(h *tar.Header) error {
	p, err := cleanMemberPath(h.Name)
	if err != nil {
		return err
	}
	if p == "" {
		return nil
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if s.symlinks[d] {
			return fmt.Errorf("entry %q is written through the package's own symlink %q", h.Name, d)
		}
	}
	typ, ok := typeNames[h.Typeflag]
	if !ok {
		return fmt.Errorf("entry %q has unsupported tar type %q", h.Name, h.Typeflag)
	}
	e := Entry{Path: p, Type: typ, Mode: h.Mode & 0o7777, UID: h.Uid, GID: h.Gid}
	switch typ {
	case "file":
		e.Size = h.Size
	case "symlink":
		if h.Linkname == "" {
			return fmt.Errorf("symlink %q has no target", h.Name)
		}
		e.Linkname = h.Linkname
		s.symlinks[p] = true
	case "hardlink":
		target, err := cleanMemberPath(h.Linkname)
		if err != nil || target == "" {
			return fmt.Errorf("hardlink %q points outside the root (%q)", h.Name, h.Linkname)
		}
		i, ok := s.seen[target]
		if !ok || s.entries[i].Type != "file" {
			return fmt.Errorf("hardlink %q points to %q, which is not an earlier regular file of the package", h.Name, h.Linkname)
		}
		e.Linkname = target
	}
	if sum := h.PAXRecords[paxChecksum]; sum != "" {
		if strings.HasPrefix(sum, "Q1") {
			e.Checksum = sum
		} else if b, err := hex.DecodeString(sum); err == nil && len(b) == 20 {
			e.Checksum = "Q1" + base64.StdEncoding.EncodeToString(b)
		} else {
			return fmt.Errorf("entry %q has a malformed %s record %q", h.Name, paxChecksum, sum)
		}
	}
	if i, dup := s.seen[p]; dup {
		if e.Type == "dir" && s.entries[i].Type == "dir" {
			s.entries[i] = e
			return nil
		}
		return fmt.Errorf("entry %q appears twice", h.Name)
	}
	s.seen[p] = len(s.entries)
	s.entries = append(s.entries, e)
	return nil
}
