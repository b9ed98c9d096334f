// Package gzsplice joins gzip-compressed tar layers into one gzip member without
// recompressing them: the deflate blocks of each input are copied bit for bit, except the
// blocks that hold a dropped entry (Input.Drop), a rewritten header (Input.Rewrite), a
// global PAX header or an input's tar end-of-archive, or whose matches reach back over
// one: those are decoded and encoded again.
//
// Splicing needs to know where deflate blocks start, in bits of the compressed stream and
// bytes of the uncompressed one, which compress/flate does not expose; this file is a
// deflate decoder (RFC 1951) that reports them.
package gzsplice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

const (
	windowSize = 1 << 15 // deflate's maximum match distance
	maxMatch   = 258
	outChunk   = 1 << 17 // bytes decoded between two compactions of the output buffer
)

// ErrCorrupt is wrapped by every error about malformed deflate data.
var ErrCorrupt = errors.New("corrupt deflate data")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Block is where a deflate block starts.
type Block struct {
	Bit    int64 // offset of its header in the compressed stream, in bits
	Out    int64 // uncompressed bytes before it
	Final  bool  // its header has BFINAL set
	Stored bool  // BTYPE 00: its bytes follow, byte-aligned, after LEN and NLEN
}

// bitReader reads deflate's LSB-first bit stream.
type bitReader struct {
	r        io.Reader
	in       []byte
	pos, end int
	acc      uint64 // bits not consumed yet, next bit lowest; above them, bits of in[pos] or zero
	n        uint   // valid bits in acc
	loaded   int64  // bytes moved into acc
	rerr     error  // from r, once it is exhausted
}

func (b *bitReader) bitPos() int64 { return b.loaded*8 - int64(b.n) }

// refill tops acc up to at least 56 bits unless the input ends first.
func (b *bitReader) refill() {
	for b.n <= 56 {
		if b.end-b.pos >= 8 {
			v := binary.LittleEndian.Uint64(b.in[b.pos:])
			b.acc |= v << b.n
			take := (63 - b.n) >> 3
			b.pos += int(take)
			b.loaded += int64(take)
			b.n += take * 8
			return
		}
		if b.pos < b.end {
			b.acc |= uint64(b.in[b.pos]) << b.n
			b.pos++
			b.loaded++
			b.n += 8
			continue
		}
		if b.rerr != nil {
			return
		}
		// Keep nothing: every byte read is already in acc.
		m, err := io.ReadAtLeast(b.r, b.in[:cap(b.in)], 1)
		b.in = b.in[:cap(b.in)]
		b.pos, b.end = 0, m
		if err != nil {
			b.rerr = err
			if m == 0 {
				return
			}
		}
	}
}

func (b *bitReader) need(k uint) error {
	if b.n < k {
		b.refill()
		if b.n < k {
			return io.ErrUnexpectedEOF
		}
	}
	return nil
}

func (b *bitReader) take(k uint) uint32 {
	v := uint32(b.acc & (1<<k - 1))
	b.acc >>= k
	b.n -= k
	return v
}

// huffman is a canonical Huffman code as lookup tables: primary is indexed by the next
// primaryBits bits; codes longer than that continue in a sub-table.
//
// An entry holds the symbol (or sub-table offset) above bit 8, the code length in the low 4
// bits (0: no such code) and flagLink when it points to a sub-table.
type huffman struct {
	primary [1 << primaryBits]uint32
	sub     []uint32
	subBits uint // bits indexing each sub-table
}

const (
	primaryBits = 10
	flagLink    = 1 << 4
)

// build makes the code whose symbol i has code length lengths[i] (0: unused).
func (h *huffman) build(lengths []uint8) error {
	var count [16]int
	maxLen := 0
	for _, l := range lengths {
		count[l]++
		if int(l) > maxLen {
			maxLen = int(l)
		}
	}
	count[0] = 0
	left, codes := 1, 0
	for l := 1; l <= 15; l++ {
		left = left<<1 - count[l]
		codes += count[l]
		if left < 0 {
			return corrupt("over-subscribed Huffman code")
		}
	}
	// As compress/flate: a code must be complete, except a single one-bit code or none.
	if left > 0 && codes > 0 && !(codes == 1 && count[1] == 1) {
		return corrupt("incomplete Huffman code")
	}
	var next [16]uint32
	code := uint32(0)
	for l := 1; l <= 15; l++ {
		code = (code + uint32(count[l-1])) << 1
		next[l] = code
	}
	// next[1] above starts from count[0] = 0.
	for i := range h.primary {
		h.primary[i] = 0
	}
	h.subBits = 0
	if maxLen > primaryBits {
		h.subBits = uint(maxLen - primaryBits)
	}
	h.sub = h.sub[:0]
	subOf := map[uint32]uint32{} // primary index -> sub-table offset
	for sym, l := range lengths {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		rev := uint32(bits.Reverse16(uint16(c))) >> (16 - uint(l))
		if int(l) <= primaryBits {
			e := uint32(sym)<<8 | uint32(l)
			for j := rev; j < 1<<primaryBits; j += 1 << l {
				h.primary[j] = e
			}
			continue
		}
		p := rev & (1<<primaryBits - 1)
		off, ok := subOf[p]
		if !ok {
			off = uint32(len(h.sub))
			h.sub = append(h.sub, make([]uint32, 1<<h.subBits)...)
			subOf[p] = off
			h.primary[p] = off<<8 | flagLink
		}
		e := uint32(sym)<<8 | uint32(l)
		for j := rev >> primaryBits; j < 1<<h.subBits; j += 1 << (uint(l) - primaryBits) {
			h.sub[off+j] = e
		}
	}
	return nil
}

// decode reads one symbol. The caller has refilled, so acc holds at least 15 bits unless
// the input is ending.
func (h *huffman) decode(b *bitReader) (int, error) {
	e := h.primary[b.acc&(1<<primaryBits-1)]
	if e&flagLink != 0 {
		e = h.sub[e>>8+uint32(b.acc>>primaryBits)&(1<<h.subBits-1)]
	}
	l := uint(e & 15)
	if l == 0 {
		if b.n < 15 {
			return 0, io.ErrUnexpectedEOF
		}
		return 0, corrupt("invalid Huffman code")
	}
	if l > b.n {
		return 0, io.ErrUnexpectedEOF
	}
	b.acc >>= l
	b.n -= l
	return int(e >> 8), nil
}

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint32{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder     = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	fixedLit, fixedDist huffman
)

func init() {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	if err := fixedLit.build(l[:]); err != nil {
		panic(err)
	}
	var d [32]uint8 // 30 and 31 complete the code; decoding them is an error
	for i := range d {
		d[i] = 5
	}
	if err := fixedDist.build(d[:]); err != nil {
		panic(err)
	}
}

// Decoder inflates one raw deflate stream and reports where its blocks start.
type Decoder struct {
	br bitReader
	// OnBlock, when set, is called at each block header, before the header is read.
	OnBlock func(Block)
	// OnBlockEnd, when set, is called at the end of each block with the uncompressed and
	// bit offsets just after it and the lowest uncompressed offset its matches copy from
	// (its own start if it has none).
	OnBlockEnd func(end, endBit, minRef int64)
	// buf holds up to windowSize bytes of history, then decoded bytes not yet read.
	buf  []byte
	r, w int
	base int64 // uncompressed offset of buf[0] (negative while primed history is in buf)

	inBlock   bool
	final     bool
	done      bool
	stored    int // bytes left in the current stored block
	lit, dist *huffman
	dynLit    huffman
	dynDist   huffman
	err       error
	minRef    int64 // of the current block
}

// NewDecoder returns a decoder of the deflate stream read from r.
func NewDecoder(r io.Reader) *Decoder {
	d := &Decoder{buf: make([]byte, windowSize+outChunk)}
	d.br = bitReader{r: r, in: make([]byte, 1<<16)}
	d.br.in = d.br.in[:0]
	return d
}

// NewDecoderAt decodes from a block that starts skipBits into r to the end of the stream,
// with window as the history before that block.
func NewDecoderAt(r io.Reader, skipBits uint, window []byte) (*Decoder, error) {
	if len(window) > windowSize {
		window = window[len(window)-windowSize:]
	}
	d := NewDecoder(r)
	d.w = copy(d.buf, window)
	d.r = d.w
	d.base = -int64(d.w)
	if skipBits > 0 {
		if err := d.br.need(skipBits); err != nil {
			return nil, err
		}
		d.br.take(skipBits)
	}
	return d, nil
}

// Rest returns the input bytes read ahead past the end of the deflate stream (after
// io.EOF): the bits left in the last byte are discarded, as deflate pads to a byte.
func (d *Decoder) Rest() []byte {
	b := &d.br
	extra := int(b.n / 8) // whole bytes in acc beyond the stream
	rest := make([]byte, 0, extra+b.end-b.pos)
	acc := b.acc >> (b.n % 8)
	for i := 0; i < extra; i++ {
		rest = append(rest, byte(acc))
		acc >>= 8
	}
	return append(rest, b.in[b.pos:b.end]...)
}

// Window returns the last (up to windowSize) decoded bytes: the history a block starting
// now could refer to. Valid inside OnBlock.
func (d *Decoder) Window() []byte {
	lo := d.w - windowSize
	if lo < 0 {
		lo = 0
	}
	return d.buf[lo:d.w]
}

func (d *Decoder) Read(p []byte) (int, error) {
	for d.r == d.w {
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.buf[d.r:d.w])
	d.r += n
	return n, nil
}

// fill decodes up to outChunk bytes into buf; sets d.err at the end or on an error.
func (d *Decoder) fill() {
	if d.w > windowSize {
		// Everything was read: keep windowSize bytes of history.
		shift := d.w - windowSize
		copy(d.buf, d.buf[shift:d.w])
		d.r, d.w = windowSize, windowSize
		d.base += int64(shift)
	}
	limit := len(d.buf) - maxMatch
	for d.w < limit && d.err == nil {
		if !d.inBlock {
			if d.done {
				d.err = io.EOF
				break
			}
			if err := d.header(); err != nil {
				d.err = err
				break
			}
			continue
		}
		var err error
		if d.lit == nil {
			err = d.copyStored(limit)
		} else {
			err = d.huffmanBlock(limit)
		}
		if err != nil {
			d.err = err
		}
	}
}

func (d *Decoder) header() error {
	b := &d.br
	bit := b.bitPos()
	if err := b.need(3); err != nil {
		return err
	}
	hdr := b.take(3)
	final := hdr&1 == 1
	if d.OnBlock != nil {
		d.OnBlock(Block{Bit: bit, Out: d.base + int64(d.w), Final: final, Stored: hdr>>1 == 0})
	}
	d.final = final
	d.minRef = d.base + int64(d.w)
	switch hdr >> 1 {
	case 0:
		// Stored: skip to the byte boundary, then LEN and NLEN.
		b.take(b.n % 8)
		if err := b.need(32); err != nil {
			return err
		}
		ln := b.take(16)
		nln := b.take(16)
		if ln != ^nln&0xffff {
			return corrupt("stored block length %d does not match its complement", ln)
		}
		d.stored = int(ln)
		d.lit, d.dist = nil, nil
	case 1:
		d.lit, d.dist = &fixedLit, &fixedDist
	case 2:
		if err := d.dynamicHeader(); err != nil {
			return err
		}
		d.lit, d.dist = &d.dynLit, &d.dynDist
	default:
		return corrupt("reserved block type 3")
	}
	d.inBlock = true
	return nil
}

func (d *Decoder) dynamicHeader() error {
	b := &d.br
	if err := b.need(14); err != nil {
		return err
	}
	nlit := int(b.take(5)) + 257
	ndist := int(b.take(5)) + 1
	nclen := int(b.take(4)) + 4
	// Up to 288 and 32 codes may be sent (the last two of each are never used).
	if nlit > 288 || ndist > 32 {
		return corrupt("%d literal/length or %d distance codes", nlit, ndist)
	}
	var cl [19]uint8
	for i := 0; i < nclen; i++ {
		if err := b.need(3); err != nil {
			return err
		}
		cl[clOrder[i]] = uint8(b.take(3))
	}
	var clh huffman
	if err := clh.build(cl[:]); err != nil {
		return err
	}
	var lengths [288 + 32]uint8
	for i := 0; i < nlit+ndist; {
		b.refill()
		sym, err := clh.decode(b)
		if err != nil {
			return err
		}
		switch {
		case sym < 16:
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return corrupt("repeat of a code length before the first")
			}
			if err := b.need(2); err != nil {
				return err
			}
			rep, val = 3+int(b.take(2)), lengths[i-1]
		case 17:
			if err := b.need(3); err != nil {
				return err
			}
			rep = 3 + int(b.take(3))
		default:
			if err := b.need(7); err != nil {
				return err
			}
			rep = 11 + int(b.take(7))
		}
		if i+rep > nlit+ndist {
			return corrupt("code lengths overrun")
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return corrupt("no end-of-block code")
	}
	if err := d.dynLit.build(lengths[:nlit]); err != nil {
		return err
	}
	return d.dynDist.build(lengths[nlit : nlit+ndist])
}

func (d *Decoder) endBlock() {
	d.inBlock = false
	if d.OnBlockEnd != nil {
		d.OnBlockEnd(d.base+int64(d.w), d.br.bitPos(), d.minRef)
	}
	if d.final {
		d.done = true
	}
}

func (d *Decoder) copyStored(limit int) error {
	b := &d.br
	for d.stored > 0 && d.w < limit {
		// Bytes already in the accumulator come first (it is byte-aligned here).
		if b.n >= 8 {
			d.buf[d.w] = byte(b.take(8))
			d.w++
			d.stored--
			continue
		}
		if b.pos == b.end {
			b.refill()
			if b.n == 0 {
				return io.ErrUnexpectedEOF
			}
			continue
		}
		// acc is empty but may hold bits of b.in[b.pos] that a refill loaded ahead; they
		// are stale once that byte is copied here.
		b.acc = 0
		n := min(d.stored, limit-d.w, b.end-b.pos)
		copy(d.buf[d.w:], b.in[b.pos:b.pos+n])
		b.pos += n
		b.loaded += int64(n)
		d.w += n
		d.stored -= n
	}
	if d.stored == 0 {
		d.stored = -1
		d.endBlock()
	}
	return nil
}

func (d *Decoder) huffmanBlock(limit int) error {
	b := &d.br
	lit, dist := d.lit, d.dist
	buf := d.buf
	w := d.w
	defer func() { d.w = w }()
	for w < limit {
		if b.n < 48 {
			b.refill()
		}
		sym, err := lit.decode(b)
		if err != nil {
			return err
		}
		if sym < 256 {
			buf[w] = byte(sym)
			w++
			continue
		}
		if sym == 256 {
			d.w = w
			d.endBlock()
			return nil
		}
		sym -= 257
		if sym >= 29 {
			return corrupt("invalid length code %d", sym+257)
		}
		length := int(lengthBase[sym])
		if e := uint(lengthExtra[sym]); e > 0 {
			if b.n < e {
				return io.ErrUnexpectedEOF
			}
			length += int(b.take(e))
		}
		ds, err := dist.decode(b)
		if err != nil {
			return err
		}
		if ds >= 30 {
			return corrupt("invalid distance code %d", ds)
		}
		distance := int(distBase[ds])
		if e := uint(distExtra[ds]); e > 0 {
			if b.n < e {
				b.refill()
				if b.n < e {
					return io.ErrUnexpectedEOF
				}
			}
			distance += int(b.take(e))
		}
		if distance > w {
			return corrupt("distance %d beyond the start of the stream", distance)
		}
		src := w - distance
		if r := d.base + int64(src); r < d.minRef {
			d.minRef = r
		}
		if distance >= length {
			copy(buf[w:w+length], buf[src:src+length])
			w += length
		} else {
			for i := 0; i < length; i++ {
				buf[w] = buf[src+i]
				w++
			}
		}
	}
	return nil
}
