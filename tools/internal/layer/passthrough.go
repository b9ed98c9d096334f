package layer

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrGlobalHeader says that an archive holds a global PAX header (`git archive`'s
// pax_global_header). Such an archive is checked but not passed through: in a layer the
// header's records would apply to the entries after it, so it has to be re-packed
// (WriteTarWithArchives drops it).
var ErrGlobalHeader = errors.New("holds a global PAX header")

// archiveCompression is the compression an archive's magic number shows.
func archiveCompression(magic []byte) Compression {
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return Gzip
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		return Zstd
	}
	return None
}

// Passthrough writes the archive name (a .tar, .tar.gz or .tar.zst someone else made, e.g.
// rules_pkg's pkg_tar) to out as a layer blob without re-packing it: a compressed archive
// is the blob byte for byte, a plain tar is compressed with c. Every entry is checked by
// the rules of check.go, as a layer's are, while the bytes pass (one read of the file); an
// archive that breaks one is an error naming it and the entry. An archive with a global
// PAX header returns an error matching ErrGlobalHeader. On error, out has received part of
// the blob: the caller writes to a temporary file.
func Passthrough(out io.Writer, name string, c Compression, level int) (*Metadata, error) {
	input := "tar " + name
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, err := io.ReadFull(f, magic)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: empty file, not a tar", input)
	}
	magic = magic[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	given := archiveCompression(magic)

	var (
		tarStream io.Reader // what the checker reads
		drain     io.Reader // read to its end so that every byte reached out
		finish    func() (*Metadata, error)
	)
	if given == None {
		// A plain tar: the layer writer compresses it and hashes both sides.
		w, err := NewWriter(out, c, level)
		if err != nil {
			return nil, err
		}
		defer w.Abort()
		tarStream = io.TeeReader(f, w)
		drain = tarStream
		finish = w.Close
	} else {
		blob := NewBlobWriter(out)
		raw := io.TeeReader(f, blob)
		r, err := decompress(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", input, err)
		}
		defer r.Close()
		diff := sha256.New()
		tarStream = io.TeeReader(r, diff)
		drain = raw
		finish = func() (*Metadata, error) {
			return &Metadata{
				MediaType: map[Compression]string{Gzip: MediaTypeGzip, Zstd: MediaTypeZstd}[given],
				Digest:    blob.Digest(),
				Size:      blob.Size(),
				DiffID:    "sha256:" + hex.EncodeToString(diff.Sum(nil)),
			}, nil
		}
	}
	// checkArchive reads the tar stream to its end (zeros past the end-of-archive marker are
	// part of the diffID; a truncated or corrupt compressed stream fails there).
	if err := checkArchive(tarStream, input); err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, drain); err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	return finish()
}

// checkArchive reads a tar stream to its end and checks every entry by the rules of
// check.go, and what follows the end-of-archive marker by afterEnd's.
func checkArchive(r io.Reader, input string) error {
	c := newChecker()
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			if err := afterEnd(cr); err != nil {
				return fmt.Errorf("%s: %w", input, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", input, err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			return fmt.Errorf("%s: %w", input, ErrGlobalHeader)
		}
		if isRoot(h.Name) {
			continue // the archive's root entry ("./"), which extraction skips
		}
		k, ok := tarKinds[h.Typeflag]
		if !ok {
			return fmt.Errorf("%s: entry %q has unsupported tar type %q", input, h.Name, h.Typeflag)
		}
		if _, _, err := c.check(h.Name, k, h.Linkname, input, ""); err != nil {
			return err
		}
	}
}

// countingReader counts the bytes read through it: where in a tar stream a reader is.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// afterEnd reads what follows a tar's end-of-archive marker to the end of the stream.
// Zeros are the padding of the last record (GNU tar pads to 10240 bytes) and fine. Anything
// else is refused rather than dropped: tar and Docker stop at the marker, but `tar -i`
// goes on, so the bytes are entries no check saw (a passthrough blob is the archive byte for
// byte and would carry them), and a second archive appended is lost content either way.
func afterEnd(r *countingReader) error {
	buf := make([]byte, 32<<10)
	for {
		at := r.n
		n, err := r.Read(buf)
		for i, b := range buf[:n] {
			if b != 0 {
				return fmt.Errorf("data after the tar's end-of-archive marker (two zero blocks), at byte %d of the tar: "+
					"tar stops at the marker, so no check saw it, but `tar -i` unpacks it; a layer may not carry it "+
					"(was another tar appended? make one archive of both)", at+int64(i))
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
