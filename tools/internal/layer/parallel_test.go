package layer

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// blockInput is 5.5 gzip blocks of compressible, varied bytes, the same on every machine.
func blockInput() []byte { return varied(GzipBlockSize * 11 / 2) }

func varied(n int) []byte {
	b := make([]byte, n)
	x := uint32(1)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = "abcdefgh\n "[x>>28%10]
	}
	return b
}

// The gzip blob depends on the block size and level, not on how many blocks compress at
// once: a layer built on a 2-core laptop and a 64-core executor has one digest.
func TestGzipSameBytesWhateverTheConcurrency(t *testing.T) {
	in := blockInput()
	defer func(f func() int) { gzipBlocks = f }(gzipBlocks)
	var blobs [][]byte
	var meta []*Metadata
	for _, n := range []int{1, 2, 4, 16} {
		gzipBlocks = func() int { return n }
		// Write sizes other than the block size: boundaries come from the input offset.
		b, m := compress(t, Gzip, in, 777777/n+1)
		blobs, meta = append(blobs, b), append(meta, m)
	}
	for i := range blobs[1:] {
		if !bytes.Equal(blobs[0], blobs[i+1]) || meta[0].Digest != meta[i+1].Digest || meta[0].DiffID != meta[i+1].DiffID {
			t.Fatalf("concurrency changed the blob: %+v vs %+v", meta[0], meta[i+1])
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(blobs[0]))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, in) {
		t.Fatalf("the blob does not inflate to the input: %v", err)
	}
	if !zr.ModTime.IsZero() && zr.ModTime.Unix() != 0 || zr.OS != 255 || zr.Name != "" {
		t.Fatalf("gzip header: mtime %v, OS %d, name %q", zr.ModTime, zr.OS, zr.Name)
	}
	// The bytes are part of the format: a compressor upgrade that changes them changes every
	// image's digest, and must be a decision, not an accident of go get.
	const want = "sha256:763c2cd1ab11e3fbcf5648740bb71b0cf760f664dd956063508c3666c55359c8"
	if meta[0].Digest != want {
		t.Errorf("gzip of the fixed input: %s (%d bytes), want %s", meta[0].Digest, meta[0].Size, want)
	}
}

// Up to one block a layer is one plain gzip stream (the bytes layers had before blocks);
// one byte more and it is block-compressed. Both inflate to the input.
func TestGzipOneBlockIsPlainGzip(t *testing.T) {
	in := blockInput()
	for _, n := range []int{0, 1000, GzipBlockSize, GzipBlockSize + 1} {
		var out bytes.Buffer
		w, err := NewWriter(&out, Gzip, -1)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(in[:n])
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var plain bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&plain, -1)
		zw.OS = 255
		zw.Write(in[:n])
		zw.Close()
		if same := bytes.Equal(out.Bytes(), plain.Bytes()); same != (n <= GzipBlockSize) {
			t.Errorf("%d bytes: same as plain gzip = %v", n, same)
		}
		zr, err := gzip.NewReader(&out)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, in[:n]) {
			t.Errorf("%d bytes: does not inflate to the input: %v", n, err)
		}
	}
}

// compress writes in through a layer Writer, chunk bytes per write.
func compress(t *testing.T, c Compression, in []byte, chunk int) ([]byte, *Metadata) {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, c, -1)
	if err != nil {
		t.Fatal(err)
	}
	for rest := in; len(rest) > 0; {
		k := min(len(rest), chunk)
		if _, err := w.Write(rest[:k]); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The diff_id is hashed on its own goroutine, from copies of the writes.
	if want := fmt.Sprintf("sha256:%x", sha256.Sum256(in)); m.DiffID != want {
		t.Fatalf("diff_id %s, want %s", m.DiffID, want)
	}
	return out.Bytes(), m
}

// A zstd layer past one job is compressed in jobs on two encoders: the same bytes on one
// core or four, pinned; up to one job it is one sequential frame, the bytes it had before.
func TestZstdJobsSameBytesWhateverTheCores(t *testing.T) {
	in := varied(ZstdJobSize*5/2 + 12345)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var blobs [][]byte
	var digest string
	for _, procs := range []int{1, 4} {
		runtime.GOMAXPROCS(procs)
		b, m := compress(t, Zstd, in, 333333)
		blobs, digest = append(blobs, b), m.Digest
	}
	if !bytes.Equal(blobs[0], blobs[1]) {
		t.Fatal("zstd layer bytes differ between GOMAXPROCS 1 and 4")
	}
	zr, _ := zstd.NewReader(bytes.NewReader(blobs[0]))
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, in) {
		t.Fatalf("does not decompress to the input: %v", err)
	}
	const want = "sha256:7d0767f4e0cdbb54ef565a7c813f2d83786f0556722f8af4f04eaaef879114b3"
	if digest != want {
		t.Errorf("zstd of the fixed input: %s (%d bytes), want %s", digest, len(blobs[0]), want)
	}
	for _, n := range []int{0, 1000, ZstdJobSize} {
		b, _ := compress(t, Zstd, in[:n], 333333)
		var plain bytes.Buffer
		zw, _ := zstd.NewWriter(&plain, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true))
		zw.Write(in[:n])
		zw.Close()
		if !bytes.Equal(b, plain.Bytes()) {
			t.Errorf("%d bytes: not the one sequential frame", n)
		}
	}
}

// A layer given up half-written (its input failed) stops its compressor's and its hash's
// goroutines: verbs run in a persistent worker.
func TestAbortedWriterLeavesNoGoroutines(t *testing.T) {
	in := varied(ZstdJobSize + GzipBlockSize)
	before := runtime.NumGoroutine()
	for _, c := range []Compression{Gzip, Zstd, None} {
		w, err := NewWriter(io.Discard, c, -1)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(in)
		w.Abort()
		w.Abort()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after aborting, %d before", n, before)
	}
}

// A gzip level out of range is refused when the writer is made, not when the stream ends.
func TestGzipLevelRefused(t *testing.T) {
	for _, level := range []int{-3, 10} {
		_, err := NewWriter(io.Discard, Gzip, level)
		if want := fmt.Sprintf("gzip: invalid compression level: %d", level); err == nil || err.Error() != want {
			t.Errorf("level %d: got %v, want %s", level, err, want)
		}
	}
}
