package attribution

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

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

var typeNames = map[byte]string{
	tar.TypeReg: "file", tar.TypeDir: "dir", tar.TypeSymlink: "symlink",
	tar.TypeLink: "hardlink", tar.TypeChar: "char", tar.TypeBlock: "block", tar.TypeFifo: "fifo",
}

// entryOf is a tar header as a listing entry; ok is false for headers that are no file
// (a global PAX header).
func entryOf(h *tar.Header) (apkfile.Entry, bool) {
	t, ok := typeNames[h.Typeflag]
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

// Lister lists the entries of a tar stream written to it, as the bytes pass (a tar reader
// on the other end of a pipe), so that a layer writer lists its layer in the same pass.
type Lister struct {
	pw      *io.PipeWriter
	done    chan struct{}
	entries []apkfile.Entry
	err     error
}

// NewLister starts a Lister.
func NewLister() *Lister {
	pr, pw := io.Pipe()
	l := &Lister{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.entries, l.err = ListTar(pr)
		// Drain what follows the end-of-archive marker so that writers never block.
		io.Copy(io.Discard, pr)
		pr.CloseWithError(l.err)
	}()
	return l
}

func (l *Lister) Write(p []byte) (int, error) { return l.pw.Write(p) }

// Close ends the stream and returns the entries.
func (l *Lister) Close() ([]apkfile.Entry, error) {
	l.pw.Close()
	<-l.done
	if l.err != nil {
		return nil, fmt.Errorf("listing the layer: %w", l.err)
	}
	return l.entries, nil
}

// Abort ends the stream of a layer that failed.
func (l *Lister) Abort() {
	l.pw.CloseWithError(errors.New("aborted"))
	<-l.done
}
