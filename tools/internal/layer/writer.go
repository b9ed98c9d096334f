package layer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"runtime"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

// GzipBlockSize is the input size of each gzip block compressed on its own core (with the
// previous block's last 32 KiB as dictionary, as pgzip does). The compressed bytes depend on
// it and on the level only, never on how many blocks run at once: it is part of the format.
// A layer of at most one block is one plain gzip stream (starting the block compressor costs
// more than compressing it).
const GzipBlockSize = 1 << 20

// gzipBlocks is how many blocks compress at once: the cores, at most 4 (memory stays a few
// MiB per layer whatever the machine).
func gzipBlocks() int { return min(max(runtime.GOMAXPROCS(0), 1), 4) }

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
		if _, err := gzip.NewWriterLevel(io.Discard, level); err != nil {
			return nil, err
		}
		w.zw = &blockGzip{out: sink, level: level}
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

// gzipBlocksOverride lets tests compress with another number of concurrent blocks.
var gzipBlocksOverride = func(n int) int { return n }

// blockGzip holds the first GzipBlockSize bytes: a stream that ends there is written as one
// gzip stream; a longer one goes to pgzip's block compressor. Either way no name, no mtime
// and a fixed OS byte: the header is the same on every machine.
type blockGzip struct {
	out   io.Writer
	level int
	head  []byte
	pz    *pgzip.Writer
}

func (g *blockGzip) Write(p []byte) (int, error) {
	if g.pz != nil {
		return g.pz.Write(p)
	}
	if len(g.head)+len(p) <= GzipBlockSize {
		g.head = append(g.head, p...)
		return len(p), nil
	}
	pz, err := pgzip.NewWriterLevel(g.out, g.level)
	if err != nil {
		return 0, err
	}
	if err := pz.SetConcurrency(GzipBlockSize, gzipBlocksOverride(gzipBlocks())); err != nil {
		return 0, err
	}
	pz.OS = 255
	pz.ModTime = time.Unix(0, 0)
	g.pz = pz
	if _, err := pz.Write(g.head); err != nil {
		return 0, err
	}
	g.head = nil
	return pz.Write(p)
}

func (g *blockGzip) Close() error {
	if g.pz != nil {
		return g.pz.Close()
	}
	zw, err := gzip.NewWriterLevel(g.out, g.level)
	if err != nil {
		return err
	}
	zw.OS = 255
	if _, err := zw.Write(g.head); err != nil {
		return err
	}
	return zw.Close()
}
