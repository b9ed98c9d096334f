package layer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression names a layer compression.
type Compression string

const (
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
	None Compression = "none"
)

// ParseCompression accepts gzip, zstd and none.
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(s); c {
	case Gzip, Zstd, None:
		return c, nil
	}
	return "", fmt.Errorf("unknown compression %q (want gzip, zstd or none)", s)
}

// Writer takes an uncompressed tar stream and writes the compressed blob, hashing both
// sides as the bytes pass: one pass, constant memory.
type Writer struct {
	compression Compression
	diff        hash.Hash
	blob        *BlobWriter
	zw          io.WriteCloser
	in          io.Writer
}

// BlobWriter passes a blob's bytes to an underlying writer and keeps their sha256 and
// count: the blob's digest and size, known when the last byte is written.
type BlobWriter struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

// NewBlobWriter returns a BlobWriter writing to w.
func NewBlobWriter(w io.Writer) *BlobWriter { return &BlobWriter{w: w, h: sha256.New()} }

func (b *BlobWriter) Write(p []byte) (int, error) {
	n, err := b.w.Write(p)
	b.h.Write(p[:n])
	b.size += int64(n)
	return n, err
}

// Digest is "sha256:" and the hex digest of the bytes written so far.
func (b *BlobWriter) Digest() string { return "sha256:" + hex.EncodeToString(b.h.Sum(nil)) }

// Size is the number of bytes written so far.
func (b *BlobWriter) Size() int64 { return b.size }

// NewWriter returns a Writer that writes the compressed layer to out. Level -1 is the
// compressor's default.
func NewWriter(out io.Writer, c Compression, level int) (*Writer, error) {
	w := &Writer{compression: c, diff: sha256.New(), blob: NewBlobWriter(out)}
	sink := w.blob
	switch c {
	case Gzip:
		if level == -1 {
			level = gzip.DefaultCompression
		}
		// No name, no mtime, fixed OS byte: the header is the same on every machine.
		zw, err := gzip.NewWriterLevel(sink, level)
		if err != nil {
			return nil, err
		}
		zw.OS = 255
		w.zw = zw
	case Zstd:
		opts := []zstd.EOption{zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true)}
		if level != -1 {
			opts = append(opts, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
		}
		zw, err := zstd.NewWriter(sink, opts...)
		if err != nil {
			return nil, err
		}
		w.zw = zw
	case None:
		w.zw = nopCloser{sink}
	default:
		return nil, fmt.Errorf("unknown compression %q", c)
	}
	w.in = io.MultiWriter(w.zw, w.diff)
	return w, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Write takes uncompressed tar bytes.
func (w *Writer) Write(p []byte) (int, error) { return w.in.Write(p) }

// Close flushes the compressor and returns the layer's metadata.
func (w *Writer) Close() (*Metadata, error) {
	if err := w.zw.Close(); err != nil {
		return nil, err
	}
	mt := map[Compression]string{Gzip: MediaTypeGzip, Zstd: MediaTypeZstd, None: MediaTypeTar}[w.compression]
	return &Metadata{
		MediaType: mt,
		Digest:    w.blob.Digest(),
		Size:      w.blob.Size(),
		DiffID:    "sha256:" + hex.EncodeToString(w.diff.Sum(nil)),
	}, nil
}
