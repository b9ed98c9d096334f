package gzsplice

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// corpus returns inputs that give every kind of block: text-like data with long and
// overlapping matches, random bytes (stored blocks), runs, and the empty input.
func corpus() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"alpine", "wolfi", "/usr/lib/", "libc.so.6", "\x00\x00\x00\x00", "ELF", "bazel", " "}
	var text bytes.Buffer
	for text.Len() < 1<<20 {
		text.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(50) == 0 {
			fmt.Fprintf(&text, "%d", rng.Uint64())
		}
	}
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	mixed := append(append(append([]byte{}, text.Bytes()[:200<<10]...), random[:100<<10]...), bytes.Repeat([]byte{'a'}, 100<<10)...)
	return map[string][]byte{
		"empty":  {},
		"one":    {'x'},
		"text":   text.Bytes(),
		"random": random,
		"runs":   bytes.Repeat([]byte("ab"), 1<<20),
		"mixed":  mixed,
	}
}

type compressor struct {
	name string
	fn   func(w io.Writer) (io.WriteCloser, error)
}

func compressors() []compressor {
	var cs []compressor
	for _, l := range []int{0, 1, 6, 9, -2} {
		cs = append(cs, compressor{fmt.Sprintf("std%d", l), func(w io.Writer) (io.WriteCloser, error) { return stdflate.NewWriter(w, l) }})
	}
	for _, l := range []int{1, 5, 9, -2} {
		cs = append(cs, compressor{fmt.Sprintf("klauspost%d", l), func(w io.Writer) (io.WriteCloser, error) { return kflate.NewWriter(w, l) }})
	}
	return cs
}

func deflate(t testing.TB, c compressor, data []byte, flushEvery int) []byte {
	var b bytes.Buffer
	w, err := c.fn(&b)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := len(data)
		if flushEvery > 0 && n > flushEvery {
			n = flushEvery
		}
		w.Write(data[:n])
		data = data[n:]
		if flushEvery > 0 {
			w.(interface{ Flush() error }).Flush()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecoderMatchesStdlib(t *testing.T) {
	for name, data := range corpus() {
		for _, c := range compressors() {
			for _, flush := range []int{0, 7777} {
				t.Run(fmt.Sprintf("%s/%s/flush%d", name, c.name, flush), func(t *testing.T) {
					z := deflate(t, c, data, flush)
					d := NewDecoder(bytes.NewReader(z))
					var blocks []Block
					var windows [][]byte
					var endBit int64
					d.OnBlock = func(b Block) {
						blocks = append(blocks, b)
						windows = append(windows, bytes.Clone(d.Window()))
					}
					d.OnBlockEnd = func(_, bit, _ int64) { endBit = bit }
					got, err := io.ReadAll(d)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("decoded %d bytes, want %d (equal prefix %d)", len(got), len(data), commonPrefix(got, data))
					}
					if endBit > int64(len(z))*8 || endBit <= int64(len(z)-1)*8 {
						t.Fatalf("end bit %d for %d bytes", endBit, len(z))
					}
					if len(blocks) == 0 || blocks[0].Bit != 0 || blocks[0].Out != 0 || !blocks[len(blocks)-1].Final {
						t.Fatalf("blocks %+v", blocks)
					}
					// Each block decodes on its own from its bit offset and window.
					for i, b := range blocks {
						if i%7 != 0 && i != len(blocks)-1 {
							continue
						}
						bd, err := NewDecoderAt(bytes.NewReader(z[b.Bit/8:]), uint(b.Bit%8), windows[i])
						if err != nil {
							t.Fatal(err)
						}
						firstEnd, firstEndBit := int64(-1), int64(-1)
						bd.OnBlockEnd = func(end, bit, _ int64) {
							if firstEnd < 0 {
								firstEnd, firstEndBit = end, bit+b.Bit/8*8
							}
						}
						end, nextBit := int64(len(data)), endBit
						if i+1 < len(blocks) {
							end, nextBit = blocks[i+1].Out, blocks[i+1].Bit
						}
						part := make([]byte, end-b.Out)
						if _, err := io.ReadFull(bd, part); err != nil {
							t.Fatalf("block %d: %v", i, err)
						}
						if !bytes.Equal(part, data[b.Out:end]) {
							t.Fatalf("block %d: %d bytes, want %d", i, len(part), end-b.Out)
						}
						// An empty block ends only once decoding goes on.
						for one := make([]byte, 1); firstEnd < 0; {
							if _, err := bd.Read(one); err != nil {
								break
							}
						}
						if firstEnd != end-b.Out || firstEndBit != nextBit {
							t.Fatalf("block %d ends at byte %d, bit %d; next starts at byte %d, bit %d", i, firstEnd, firstEndBit, end-b.Out, nextBit)
						}
					}
				})
			}
		}
	}
}

func commonPrefix(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func TestDecoderErrors(t *testing.T) {
	data := corpus()["text"][:100000]
	z := deflate(t, compressors()[2], data, 0)
	for _, cut := range []int{0, 1, 2, 10, len(z) / 2, len(z) - 1} {
		_, err := io.ReadAll(NewDecoder(bytes.NewReader(z[:cut])))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: %v, want unexpected EOF", cut, err)
		}
	}
	for _, bad := range [][]byte{{0x07}, {0x00, 0x01, 0x00, 0x01, 0x00}, {0xff, 0xff, 0xff, 0xff}} {
		_, err := io.ReadAll(NewDecoder(bytes.NewReader(bad)))
		if err == nil {
			t.Errorf("%x decoded without error", bad)
		}
	}
}

// FuzzDecoder: whatever the input, the decoder agrees with compress/flate on the bytes it
// produces and on whether the stream is valid.
func FuzzDecoder(f *testing.F) {
	for _, c := range compressors()[:3] {
		f.Add(deflate(f, c, []byte("hello hello hello, deflate"), 0))
	}
	f.Add([]byte{0x01, 0x00, 0x00, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, z []byte) {
		want, werr := io.ReadAll(stdflate.NewReader(bytes.NewReader(z)))
		got, gerr := io.ReadAll(NewDecoder(bytes.NewReader(z)))
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("stdlib error %v, ours %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("decoded %d bytes, stdlib %d", len(got), len(want))
		}
	})
}
