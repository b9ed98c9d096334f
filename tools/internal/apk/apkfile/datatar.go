package apkfile

import (
	"archive/tar"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// paxChecksum is the PAX record abuild writes with each file's sha1.
const paxChecksum = "APK-TOOLS.checksum.SHA1"

// Entry is one file of a package's data tar, as the installed database records it. Path
// and Linkname are the bytes of the tar header, which need not be UTF-8 (see MarshalJSON).
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

// entryFields is Entry without its methods, for its JSON form.
type entryFields Entry

// entryJSON is Entry's JSON form: the fields, and the names that are not UTF-8 once more in
// base64.
type entryJSON struct {
	entryFields
	PathBase64     []byte `json:"path_base64,omitempty"`
	LinknameBase64 []byte `json:"linkname_base64,omitempty"`
}

// MarshalJSON writes the entry's fields. Names are bytes, and encoding/json would write
// U+FFFD for each byte that is not part of valid UTF-8, so a name that is not valid UTF-8
// is written twice: readably in "path" ("linkname"), with U+FFFD, and exactly in
// "path_base64" ("linkname_base64", standard base64), which readers take instead. UTF-8
// names (nearly all) are written only once, as they are.
func (e Entry) MarshalJSON() ([]byte, error) { return json.Marshal(e.wire()) }

// UnmarshalJSON reads what MarshalJSON writes: the base64 forms win over the readable ones.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var j entryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = j.entry()
	return nil
}

// wire is the entry's JSON form (see MarshalJSON).
func (e Entry) wire() entryJSON {
	j := entryJSON{entryFields: entryFields(e)}
	if !utf8.ValidString(e.Path) {
		j.PathBase64 = []byte(e.Path)
	}
	if !utf8.ValidString(e.Linkname) {
		j.LinknameBase64 = []byte(e.Linkname)
	}
	return j
}

// entry is the entry a JSON form stands for: the base64 forms win over the readable ones.
func (j *entryJSON) entry() Entry {
	e := Entry(j.entryFields)
	if len(j.PathBase64) > 0 {
		e.Path = string(j.PathBase64)
	}
	if len(j.LinknameBase64) > 0 {
		e.Linkname = string(j.LinknameBase64)
	}
	return e
}

var typeNames = map[byte]string{
	tar.TypeReg: "file", tar.TypeDir: "dir", tar.TypeSymlink: "symlink",
	tar.TypeLink: "hardlink", tar.TypeChar: "char", tar.TypeBlock: "block", tar.TypeFifo: "fifo",
}

// EntryType is an Entry's Type for a tar type flag; ok is false for a flag that names no
// file (a PAX or GNU header, an unknown type).
func EntryType(flag byte) (typ string, ok bool) {
	typ, ok = typeNames[flag]
	return typ, ok
}

// typeWords names entry types in messages.
var typeWords = map[string]string{
	"file": "a regular file", "dir": "a directory", "symlink": "a symlink", "hardlink": "a hardlink",
	"char": "a character device", "block": "a block device", "fifo": "a fifo",
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
	below    map[string]string // directory an entry is below -> the first such entry
}

func newScanner() *scanner {
	return &scanner{seen: map[string]int{}, symlinks: map[string]bool{}, below: map[string]string{}}
}

// add records h, refusing entries that would write outside the root: absolute or ".."
// names, hardlinks to paths outside the package, and any path that passes through a
// symlink the package itself created (a symlink pointing anywhere, then written through).
// It refuses paths that cannot all exist either: an entry below another entry that is not
// a directory (in either order), and a path listed twice unless both times as a directory.
//
// A global PAX header (typeflag 'g', such as the pax_global_header `git archive` writes
// first) is skipped: archive/tar returns it as an entry of its own and applies its records
// to no other entry, and apk-tools skips it too. It is no file of the package, so it is
// not recorded; merge-layers drops it (gzsplice.Join), and a package's own layer keeps it
// as it is, where OCI runtimes (archive/tar) skip it likewise.
func (s *scanner) add(h *tar.Header) error {
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	p, err := cleanMemberPath(h.Name)
	if err != nil {
		return err
	}
	if p == "" {
		return nil
	}
	if err := s.checkParents(h, p); err != nil {
		return err
	}
	e, err := s.entry(h, p)
	if err != nil {
		return err
	}
	return s.record(e)
}

// checkParents refuses an entry below one of the package's own symlinks or non-directories.
func (s *scanner) checkParents(h *tar.Header, p string) error {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if s.symlinks[d] {
			return fmt.Errorf("entry %q is written through the package's own symlink %q", h.Name, d)
		}
		if i, ok := s.seen[d]; ok && s.entries[i].Type != "dir" {
			return fmt.Errorf("entry %q is below %q, which is %s", p, d, typeWords[s.entries[i].Type])
		}
	}
	return nil
}

// entry is h as an Entry at p: a symlink with a target, a hardlink to an earlier regular
// file, the checksum record as Q1 base64.
func (s *scanner) entry(h *tar.Header, p string) (Entry, error) {
	typ, ok := EntryType(h.Typeflag)
	if !ok {
		return Entry{}, fmt.Errorf("entry %q has unsupported tar type %q", h.Name, h.Typeflag)
	}
	e := Entry{Path: p, Type: typ, Mode: h.Mode & 0o7777, UID: h.Uid, GID: h.Gid}
	switch typ {
	case "file":
		e.Size = h.Size
	case "symlink":
		if h.Linkname == "" {
			return e, fmt.Errorf("symlink %q has no target", h.Name)
		}
		e.Linkname = h.Linkname
		s.symlinks[p] = true
	case "hardlink":
		target, err := cleanMemberPath(h.Linkname)
		if err != nil || target == "" {
			return e, fmt.Errorf("hardlink %q points outside the root (%q)", h.Name, h.Linkname)
		}
		i, ok := s.seen[target]
		if !ok || s.entries[i].Type != "file" {
			return e, fmt.Errorf("hardlink %q points to %q, which is not an earlier regular file of the package", h.Name, h.Linkname)
		}
		e.Linkname = target
	}
	if sum := h.PAXRecords[paxChecksum]; sum != "" {
		if strings.HasPrefix(sum, "Q1") {
			e.Checksum = sum
		} else if b, err := hex.DecodeString(sum); err == nil && len(b) == 20 {
			e.Checksum = "Q1" + base64.StdEncoding.EncodeToString(b)
		} else {
			return e, fmt.Errorf("entry %q has a malformed %s record %q", h.Name, paxChecksum, sum)
		}
	}
	return e, nil
}

// record adds e, refusing a path seen before (a directory listed again replaces the
// earlier one) and a non-directory above an earlier entry.
func (s *scanner) record(e Entry) error {
	p := e.Path
	if i, dup := s.seen[p]; dup {
		if e.Type == "dir" && s.entries[i].Type == "dir" {
			s.entries[i] = e
			return nil
		}
		return fmt.Errorf("entry %q appears twice: %s, then %s", p, typeWords[s.entries[i].Type], typeWords[e.Type])
	}
	if first, ok := s.below[p]; ok && e.Type != "dir" {
		return fmt.Errorf("entry %q is %s, but the earlier entry %q is below it", p, typeWords[e.Type], first)
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if _, ok := s.below[d]; ok {
			break // and so are its parents
		}
		s.below[d] = p
	}
	s.seen[p] = len(s.entries)
	s.entries = append(s.entries, e)
	return nil
}
