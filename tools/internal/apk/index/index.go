// Package index reads APKINDEX archives and compares APK versions (apk-tools' order).
package index

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// Bounds for repository indexes (Alpine's main index is a few MiB uncompressed).
const (
	maxIndexMember = 64 << 20
	maxIndexText   = 256 << 20
)

// IndexEntry is one package of an APKINDEX.
type IndexEntry struct {
	Checksum         string // C: "Q1" + base64(sha1 of the control member)
	Name             string // P:
	Version          string // V:
	Arch             string // A:
	Size             int64  // S: size of the .apk
	InstalledSize    int64  // I:
	Description      string // T:
	URL              string // U:
	License          string // L:
	Origin           string // o:
	Maintainer       string // m:
	BuildTime        int64  // t:
	Commit           string // c:
	ProviderPriority int64  // k:
	Depends          []string
	Provides         []string
	InstallIf        []string
	Replaces         []string
}

// Index is a parsed, possibly signed, APKINDEX.tar.gz.
type Index struct {
	Signatures  []apkfile.Signature
	Signed      []byte // the raw index member, which the signatures cover
	Description string
	Entries     []IndexEntry
}

// ParseIndex reads an APKINDEX.tar.gz: an optional signature member, then the index
// member (a tar with DESCRIPTION and APKINDEX).
func ParseIndex(r io.Reader) (*Index, error) {
	c := apkfile.NewMemberReader(r)
	idx := &Index{}
	var files = map[string][]byte{}
	first, err := c.Member(maxIndexMember, func(h *tar.Header, tr io.Reader) error {
		if strings.HasPrefix(h.Name, ".SIGN.") {
			sig, err := apkfile.ReadSignature(h, tr)
			idx.Signatures = append(idx.Signatures, sig)
			return err
		}
		b, err := apkfile.ReadLimited(tr, maxIndexText, h.Name)
		files[h.Name] = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("APKINDEX: first gzip member: %w", err)
	}
	if len(idx.Signatures) > 0 {
		if len(files) > 0 {
			return nil, errors.New("APKINDEX: first member mixes signatures and index files")
		}
		rest, err := io.ReadAll(io.LimitReader(c, maxIndexMember+1))
		if err != nil {
			return nil, fmt.Errorf("APKINDEX: %w", err)
		}
		if len(rest) > maxIndexMember {
			return nil, errors.New("APKINDEX: index member too large")
		}
		idx.Signed = rest
		zr, err := gzip.NewReader(bytes.NewReader(rest))
		if err != nil {
			return nil, fmt.Errorf("APKINDEX: index member: %w", err)
		}
		tr := tar.NewReader(io.LimitReader(zr, maxIndexText))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("APKINDEX: index member: %w", err)
			}
			b, err := apkfile.ReadLimited(tr, maxIndexText, h.Name)
			if err != nil {
				return nil, err
			}
			files[h.Name] = b
		}
	} else {
		idx.Signed = append([]byte(nil), first...)
	}
	text, ok := files["APKINDEX"]
	if !ok {
		return nil, errors.New("APKINDEX: no APKINDEX file in the archive")
	}
	idx.Description = strings.TrimSpace(string(files["DESCRIPTION"]))
	if idx.Entries, err = ParseIndexText(text); err != nil {
		return nil, err
	}
	return idx, nil
}

// ParseIndexText parses APKINDEX text: "K:value" lines, entries separated by blank lines.
func ParseIndexText(b []byte) ([]IndexEntry, error) {
	var out []IndexEntry
	var e IndexEntry
	started := false
	line := 0
	flush := func() error {
		if !started {
			return nil
		}
		if e.Name == "" || e.Version == "" {
			return fmt.Errorf("APKINDEX: entry ending at line %d has no P: (name) or V: (version) line", line)
		}
		out = append(out, e)
		e, started = IndexEntry{}, false
		return nil
	}
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 64*1024), 4<<20)
	for s.Scan() {
		line++
		t := s.Text()
		if t == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if len(t) < 2 || t[1] != ':' {
			return nil, fmt.Errorf("APKINDEX: line %d: want K:value, got %q", line, t)
		}
		started = true
		if err := e.set(t[0], t[2:]); err != nil {
			return nil, fmt.Errorf("APKINDEX: line %d: %c: %w", line, t[0], err)
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("APKINDEX: %w", err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// set sets the field of key k; other keys are ignored.
func (e *IndexEntry) set(k byte, v string) error {
	var err error
	switch k {
	case 'C':
		e.Checksum = v
	case 'P':
		e.Name = v
	case 'V':
		e.Version = v
	case 'A':
		e.Arch = v
	case 'S':
		e.Size, err = strconv.ParseInt(v, 10, 64)
	case 'I':
		e.InstalledSize, err = strconv.ParseInt(v, 10, 64)
	case 'T':
		e.Description = v
	case 'U':
		e.URL = v
	case 'L':
		e.License = v
	case 'o':
		e.Origin = v
	case 'm':
		e.Maintainer = v
	case 't':
		e.BuildTime, err = strconv.ParseInt(v, 10, 64)
	case 'c':
		e.Commit = v
	case 'k':
		e.ProviderPriority, err = strconv.ParseInt(v, 10, 64)
	case 'D':
		e.Depends = strings.Fields(v)
	case 'p':
		e.Provides = strings.Fields(v)
	case 'i':
		e.InstallIf = strings.Fields(v)
	case 'r':
		e.Replaces = strings.Fields(v)
	}
	return err
}

// Verify checks the index's signatures against the keyring (one valid signature suffices,
// as in apk; signatures by unknown keys are skipped).
func (idx *Index) Verify(ring apkfile.Keyring) (string, error) {
	signer, err := ring.VerifySignature(idx.Signatures, idx.Signed)
	if err != nil {
		return "", fmt.Errorf("APKINDEX: %w", err)
	}
	return signer, nil
}
