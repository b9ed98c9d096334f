package attribution

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// listing is a layer listing file: the layer's entries, in the order of the tar, in the
// package facts' entry form (non-UTF-8 names kept exactly).
type listing struct {
	Entries []apkfile.Entry `json:"entries"`
}

// MarshalListing renders entries as a listing file.
func MarshalListing(entries []apkfile.Entry) []byte {
	if entries == nil {
		entries = []apkfile.Entry{}
	}
	b, err := json.Marshal(listing{Entries: entries})
	if err != nil {
		panic(err) // plain structs: cannot fail
	}
	return append(b, '\n')
}

// ReadListing reads a listing file.
func ReadListing(name string) ([]apkfile.Entry, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var l listing
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("layer listing %s: %w", name, err)
	}
	return l.Entries, nil
}

// entryOf is a tar header as a listing entry; ok is false for headers that are no file
// (a global PAX header).
func entryOf(h *tar.Header) (apkfile.Entry, bool) {
	t, ok := apkfile.EntryType(h.Typeflag)
	if !ok {
		return apkfile.Entry{}, false
	}
	return apkfile.Entry{
		Path: clean(h.Name), Type: t, Mode: h.Mode & 07777, UID: h.Uid, GID: h.Gid,
		Size: h.Size, Linkname: h.Linkname,
	}, true
}

// ListTar lists an uncompressed tar stream's entries.
func ListTar(r io.Reader) ([]apkfile.Entry, error) {
	tr := tar.NewReader(r)
	var out []apkfile.Entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if e, ok := entryOf(h); ok {
			out = append(out, e)
		}
	}
}

// ListArchive lists a .tar, .tar.gz or .tar.zst file's entries (an archive given as a layer).
func ListArchive(name string) ([]apkfile.Entry, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(4)
	var r io.Reader = br
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("tar %s: %w", name, err)
		}
		r = zr
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("tar %s: %w", name, err)
		}
		defer zr.Close()
		r = zr
	}
	entries, err := ListTar(r)
	if err != nil {
		return nil, fmt.Errorf("tar %s: %w", name, err)
	}
	return entries, nil
}

// Lister lists the entries of a tar stream written to it, as the bytes pass, so that a
// layer writer lists its layer in the same pass. It reads headers (with their PAX and GNU
// long-name records) and skips file data by counting: no copy, no goroutine.
type Lister struct {
	block   []byte // the header block being filled
	pending []byte // extension headers and their data, before the header they apply to
	collect int64  // extension data still to append to pending
	skip    int64  // file data and padding still to pass over
	ended   bool   // end-of-archive seen: the rest is padding
	entries []apkfile.Entry
	err     error
}

// NewLister returns an empty Lister.
func NewLister() *Lister { return &Lister{block: make([]byte, 0, blockSize)} }

const blockSize = 512

// Write takes the next bytes of the stream; it never fails (Close reports a bad stream).
func (l *Lister) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && !l.ended && l.err == nil {
		switch {
		case l.skip > 0:
			k := min(l.skip, int64(len(p)))
			l.skip, p = l.skip-k, p[k:]
		case l.collect > 0:
			k := min(l.collect, int64(len(p)))
			l.pending = append(l.pending, p[:k]...)
			l.collect, p = l.collect-k, p[k:]
		default:
			k := min(blockSize-len(l.block), len(p))
			l.block, p = append(l.block, p[:k]...), p[k:]
			if len(l.block) == blockSize {
				l.err = l.header()
				l.block = l.block[:0]
			}
		}
	}
	return n, nil
}

// header handles a complete header block.
func (l *Lister) header() error {
	if bytes.Count(l.block, []byte{0}) == blockSize {
		l.ended = true
		return nil
	}
	size, err := blockFileSize(l.block)
	if err != nil {
		return err
	}
	padded := (size + blockSize - 1) / blockSize * blockSize
	switch l.block[156] {
	case tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		l.pending = append(l.pending, l.block...)
		l.collect = padded
		return nil
	case tar.TypeXGlobalHeader:
		l.skip = padded // applies to no entry (see apkfile's scanner)
		return nil
	}
	// archive/tar reads the header with its extensions; the data is not in buf and is not
	// read before the next header.
	buf := append(l.pending, l.block...)
	l.pending = nil
	h, err := tar.NewReader(bytes.NewReader(buf)).Next()
	if err != nil {
		return err
	}
	if e, ok := entryOf(h); ok {
		l.entries = append(l.entries, e)
	}
	l.skip = (h.Size + blockSize - 1) / blockSize * blockSize
	return nil
}

// blockFileSize is a header block's size field: octal, or base-256 when its high bit is set.
func blockFileSize(b []byte) (int64, error) {
	field := b[124:136]
	if field[0]&0x80 != 0 {
		var n int64
		for i, c := range field {
			if i == 0 {
				c &= 0x7f
			}
			n = n<<8 | int64(c)
		}
		return n, nil
	}
	s := strings.Trim(string(field), " \x00")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 8, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("tar header of %q: bad size field %q", strings.TrimRight(string(b[:100]), "\x00"), s)
	}
	return n, nil
}

// Close returns the entries of a stream that ended where a tar may end.
func (l *Lister) Close() ([]apkfile.Entry, error) {
	switch {
	case l.err != nil:
		return nil, fmt.Errorf("listing the layer: %w", l.err)
	case !l.ended && (len(l.block) > 0 || l.skip > 0 || l.collect > 0 || len(l.pending) > 0):
		return nil, fmt.Errorf("listing the layer: %w", io.ErrUnexpectedEOF)
	}
	return l.entries, nil
}
