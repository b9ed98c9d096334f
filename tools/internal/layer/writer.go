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
// MiB per layer whatever the machine). A variable so that tests can try other counts.
var gzipBlocks = func() int { return min(max(runtime.GOMAXPROCS(0), 1), 4) }

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
	diff        *asyncHash
	closed      bool
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
	w := &Writer{compression: c, diff: newAsyncHash(), blob: NewBlobWriter(out)}
	sink := w.blob
	switch c {
	case Gzip:
		if level == -1 {
			level = gzip.DefaultCompression
		}
		// Refused now, not when the stream ends.
		if level < gzip.HuffmanOnly || level > gzip.BestCompression {
			return nil, fmt.Errorf("gzip: invalid compression level: %d", level)
		}
		w.zw = gzipSwitch(sink, level)
	case Zstd:
		w.zw = zstdSwitch(sink, level)
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

// Abort ends a Writer that will not be closed (its output is being thrown away): the
// compressor's and the hash's goroutines stop. After Close it does nothing.
func (w *Writer) Abort() {
	if !w.closed {
		w.Close()
	}
}

// Write takes uncompressed tar bytes.
func (w *Writer) Write(p []byte) (int, error) { return w.in.Write(p) }

// Close flushes the compressor and returns the layer's metadata.
func (w *Writer) Close() (*Metadata, error) {
	w.closed = true
	err := w.zw.Close()
	diff := w.diff.Sum()
	if err != nil {
		return nil, err
	}
	mt := map[Compression]string{Gzip: MediaTypeGzip, Zstd: MediaTypeZstd, None: MediaTypeTar}[w.compression]
	return &Metadata{
		MediaType: mt,
		Digest:    w.blob.Digest(),
		Size:      w.blob.Size(),
		DiffID:    "sha256:" + hex.EncodeToString(diff),
	}, nil
}

// sizeSwitch holds the first `limit` bytes: a stream that ends there is compressed by
// `small` (one sequential stream: cheap to start), a longer one by `large` (blocks or jobs on
// several cores: costs about a millisecond to start). Which one is a function of the input's
// length only, so the bytes are too.
type sizeSwitch struct {
	out          io.Writer
	limit        int
	small, large func(io.Writer) (io.WriteCloser, error)
	head         []byte
	zw           io.WriteCloser
}

func (s *sizeSwitch) Write(p []byte) (int, error) {
	if s.zw != nil {
		return s.zw.Write(p)
	}
	if len(s.head)+len(p) <= s.limit {
		s.head = append(s.head, p...)
		return len(p), nil
	}
	zw, err := s.large(s.out)
	if err != nil {
		return 0, err
	}
	s.zw = zw
	if _, err := zw.Write(s.head); err != nil {
		return 0, err
	}
	s.head = nil
	return zw.Write(p)
}

func (s *sizeSwitch) Close() error {
	if s.zw != nil {
		return s.zw.Close()
	}
	zw, err := s.small(s.out)
	if err != nil {
		return err
	}
	if _, err := zw.Write(s.head); err != nil {
		return err
	}
	return zw.Close()
}

// gzipSwitch: one plain gzip stream up to GzipBlockSize, pgzip's blocks past it. Either way
// no name, no mtime and a fixed OS byte: the header is the same on every machine.
func gzipSwitch(out io.Writer, level int) *sizeSwitch {
	return &sizeSwitch{out: out, limit: GzipBlockSize,
		small: func(w io.Writer) (io.WriteCloser, error) {
			zw, err := gzip.NewWriterLevel(w, level)
			if err != nil {
				return nil, err
			}
			zw.OS = 255
			return zw, nil
		},
		large: func(w io.Writer) (io.WriteCloser, error) {
			zw, err := pgzip.NewWriterLevel(w, level)
			if err != nil {
				return nil, err
			}
			if err := zw.SetConcurrency(GzipBlockSize, gzipBlocks()); err != nil {
				return nil, err
			}
			zw.OS = 255
			zw.ModTime = time.Unix(0, 0)
			return zw, nil
		},
	}
}

// ZstdJobSize is the input a zstd layer is one sequential frame up to; past it the frame is
// made of jobs of this size (four 2 MiB windows) compressed on two cores, each with the end of
// the previous job as history (klauspost/compress's concurrent blocks). The bytes depend on
// the window and level, not on the cores: two encoders always, which a single core time-shares.
const ZstdJobSize = 8 << 20

func zstdSwitch(out io.Writer, level int) *sizeSwitch {
	opts := func(more ...zstd.EOption) []zstd.EOption {
		o := append([]zstd.EOption{zstd.WithEncoderCRC(true)}, more...)
		if level != -1 {
			o = append(o, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
		}
		return o
	}
	return &sizeSwitch{out: out, limit: ZstdJobSize,
		small: func(w io.Writer) (io.WriteCloser, error) {
			return zstd.NewWriter(w, opts(zstd.WithEncoderConcurrency(1))...)
		},
		large: func(w io.Writer) (io.WriteCloser, error) {
			return zstd.NewWriter(w, opts(zstd.WithEncoderConcurrency(2), zstd.WithConcurrentBlocks(true),
				zstd.WithWindowSize(ZstdJobSize/4))...)
		},
	}
}

// asyncHash is sha256 on its own goroutine once more than asyncHashAfter bytes came: the
// diff_id's hashing (about 0.75 s per GiB) then runs beside the tar writing and compression
// instead of after them. A small layer is hashed in place: no goroutine, no buffers. Writes
// are copied into a few fixed buffers, so memory stays asyncHashBufs*asyncHashBuf.
type asyncHash struct {
	h       hash.Hash
	written int64
	full    chan []byte // nil until the goroutine runs
	empty   chan []byte
	done    chan struct{}
	sum     []byte
}

const (
	asyncHashAfter = 1 << 20
	asyncHashBuf   = 256 << 10
	asyncHashBufs  = 4
)

func newAsyncHash() *asyncHash { return &asyncHash{h: sha256.New()} }

// start hands the hashing to a goroutine.
func (a *asyncHash) start() {
	a.full, a.empty, a.done = make(chan []byte, asyncHashBufs), make(chan []byte, asyncHashBufs), make(chan struct{})
	for range asyncHashBufs {
		a.empty <- make([]byte, 0, asyncHashBuf)
	}
	go func() {
		for b := range a.full {
			a.h.Write(b)
			a.empty <- b[:0]
		}
		close(a.done)
	}()
}

func (a *asyncHash) Write(p []byte) (int, error) {
	n := len(p)
	if a.full == nil {
		if a.written+int64(n) <= asyncHashAfter {
			a.written += int64(n)
			return a.h.Write(p)
		}
		a.start()
	}
	for len(p) > 0 {
		b := <-a.empty
		k := min(len(p), cap(b))
		a.full <- append(b, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

// Sum waits for every write to be hashed; the hash takes no writes after it.
func (a *asyncHash) Sum() []byte {
	if a.sum == nil {
		if a.full != nil {
			close(a.full)
			<-a.done
		}
		a.sum = a.h.Sum(nil)
	}
	return a.sum
}
