package gzsplice

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	pathpkg "path"
	"sort"
	"strings"

	kflate "github.com/klauspost/compress/flate"
)

// maxWindows bounds the 32 KiB block windows kept per member (8 MiB). A member that needs
// more (many small blocks near dropped entries) is decoded a second time instead.
var maxWindows = 256

// Input is one gzip file to join.
type Input struct {
	Path string
	// Drop, when set, says whether an entry (its name cleaned of "./" and trailing "/")
	// is left out of the joined stream.
	Drop func(name string) bool
	// Rewrite, when set, is asked about each entry that is kept (same name as Drop): a
	// non-nil result replaces the entry's header, with the extended (PAX, GNU long name)
	// headers before it, by the header archive/tar writes for it. The entry's data are
	// kept as they are, so the new header must describe as many data bytes: the same Size
	// for a type that has data, a header-only type for one that has none.
	Rewrite func(name string, h *tar.Header) *tar.Header
}

// Stats says how a Join was done.
type Stats struct {
	CopiedBits     int64 // compressed bits copied as they are
	ReencodedBytes int64 // uncompressed bytes compressed again
	DecodedTwice   int   // members decoded a second time (too many windows to keep)
}

// Result describes the joined layer's uncompressed tar stream.
type Result struct {
	DiffID []byte // its sha256
	Size   int64  // its length
	Stats  Stats
}

// Join writes to out one gzip member holding the tar streams of the inputs, in order,
// without the entries their Drop leaves out, with the headers their Rewrite gives, and
// without the end-of-archive of all but the last input. Global PAX headers (typeflag 'g',
// e.g. the pax_global_header `git archive` starts a tar with) are left out too, wherever
// they are and without asking Drop: in the joined stream their records would apply to
// every later entry, the other inputs' as well, and the readers that matter do not apply
// them anyway (Go's archive/tar, and so OCI runtimes and go-containerregistry, returns them
// as entries of their own; apk-tools skips them). Compressed blocks are copied bit for bit
// where they can be: a block is encoded again (at the given compress/flate level) only if
// it holds bytes that are left out or replaced, or if its matches reach back over such
// bytes. Every input must be one gzip member holding a tar stream followed only by zero
// bytes.
func Join(out io.Writer, inputs []Input, level int) (*Result, error) {
	if len(inputs) == 0 {
		return nil, errors.New("nothing to join")
	}
	bw := bufio.NewWriterSize(out, 1<<16)
	j := &joiner{bw: &bitWriter{w: bw}, level: level, diff: sha256.New(), crc: crc32.NewIEEE()}
	// No name, no mtime, fixed OS byte, as layer.NewWriter writes.
	j.bw.bytes([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255})
	for i, in := range inputs {
		if err := j.member(in, i == len(inputs)-1); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Path, err)
		}
	}
	var tr [8]byte
	binary.LittleEndian.PutUint32(tr[:4], j.crc.Sum32())
	binary.LittleEndian.PutUint32(tr[4:], uint32(j.size))
	j.bw.bytes(tr[:])
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return &Result{DiffID: j.diff.Sum(nil), Size: j.size, Stats: j.stats}, nil
}

type joiner struct {
	bw    *bitWriter
	level int
	fw    *kflate.Writer
	diff  hash.Hash
	crc   hash.Hash32
	size  int64 // uncompressed bytes of the joined stream so far
	stats Stats
}

// span is a range of uncompressed offsets [from, to) of one member that is left out; repl,
// when set, is written in its place (a rewritten header).
type span struct {
	from, to int64
	repl     []byte
}

// block is a deflate block of a member and what to do with it.
type block struct {
	Block
	end, endBit int64 // offsets just after it
	minRef      int64 // lowest offset its matches copy from
	done        bool  // decoded to its end
	reencode    bool
	window      []byte // history before it, kept for the first block of each re-encoded run
}

// plan is what reading a member once learned.
type plan struct {
	start        int64 // offset of the deflate data in the file
	blocks       []*block
	drops        []span // sorted, disjoint; bytes left out or replaced
	decodeTwice  bool   // windows were not kept
	finalCopied  bool   // the member's final block is copied (last member only)
	windowsKept  int
	freeWindows  [][]byte
	classifiedTo int64 // offsets below this are known to be kept or dropped
	undecided    int   // index of the first block not decided yet
}

func (j *joiner) member(in Input, last bool) error {
	f, err := os.Open(in.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	p, err := j.scan(f, in, last)
	if err != nil {
		return err
	}
	return j.emit(f, p, last)
}

// dropped reports whether [from, to) holds a dropped byte.
func (p *plan) dropped(from, to int64) bool {
	i := sort.Search(len(p.drops), func(i int) bool { return p.drops[i].to > from })
	return i < len(p.drops) && p.drops[i].from < to
}

// decide settles the blocks whose bytes are all classified: a block is copied unless it
// holds dropped bytes, copies from before a dropped byte, or (not the last member) is the
// final block, whose BFINAL bit would end the joined stream.
func (p *plan) decide(last bool) {
	for ; p.undecided < len(p.blocks); p.undecided++ {
		i, b := p.undecided, p.blocks[p.undecided]
		if !b.done || b.end > p.classifiedTo {
			return
		}
		b.reencode = (b.Final && !last) || p.dropped(b.minRef, b.end)
		// A window is needed only where a re-encoded run starts.
		if b.window != nil && (!b.reencode || i > 0 && p.blocks[i-1].reencode) {
			p.freeWindows = append(p.freeWindows, b.window)
			b.window = nil
			p.windowsKept--
		}
	}
}

// scan reads a member once: it checks the gzip framing and the tar stream, feeds the kept
// bytes to the joined stream's digests, and decides which blocks are copied.
func (j *joiner) scan(f *os.File, in Input, last bool) (*plan, error) {
	br := bufio.NewReaderSize(f, 1<<16)
	start, err := gzipHeader(br)
	if err != nil {
		return nil, err
	}
	p := &plan{start: start}
	dec := NewDecoder(br)
	p.watch(dec, last)
	c := &counter{r: dec, crc: crc32.NewIEEE()}
	s := &memberScan{j: j, p: p, in: in, last: last, c: c, tr: tar.NewReader(c), prevKept: true, buf: make([]byte, 32<<10)}
	if err := s.entries(); err != nil {
		return nil, err
	}
	if err := s.endOfArchive(); err != nil {
		return nil, err
	}
	if err := checkTrailer(br, dec, c); err != nil {
		return nil, err
	}
	if p.undecided != len(p.blocks) {
		return nil, errors.New("internal error: a block was left undecided")
	}
	if last {
		p.finalCopied = !p.blocks[len(p.blocks)-1].reencode
	}
	return p, nil
}

// watch records dec's blocks in the plan, each with a copy of the window before it until
// maxWindows are kept (then the re-encoded runs decode the member a second time instead).
func (p *plan) watch(dec *Decoder, last bool) {
	dec.OnBlock = func(b Block) {
		nb := &block{Block: b}
		if !p.decodeTwice {
			p.keepWindow(nb, dec.Window())
		}
		p.blocks = append(p.blocks, nb)
	}
	dec.OnBlockEnd = func(end, endBit, minRef int64) {
		b := p.blocks[len(p.blocks)-1]
		b.end, b.endBit, b.minRef, b.done = end, endBit, minRef, true
		p.decide(last)
	}
}

// keepWindow gives b a copy of window, reusing a freed one, or past maxWindows drops every
// window kept and has the member decoded twice.
func (p *plan) keepWindow(b *block, window []byte) {
	if p.windowsKept >= maxWindows {
		p.decodeTwice = true
		for _, b := range p.blocks {
			b.window = nil
		}
		p.freeWindows = nil
		return
	}
	var w []byte
	if n := len(p.freeWindows); n > 0 {
		w, p.freeWindows = p.freeWindows[n-1][:0], p.freeWindows[:n-1]
	}
	b.window = append(w, window...)
	p.windowsKept++
}

// memberScan walks one member's tar stream, classifying its bytes as kept or dropped.
type memberScan struct {
	j    *joiner
	p    *plan
	in   Input
	last bool
	c    *counter
	tr   *tar.Reader
	// pending holds bytes read but not yet classified as kept or dropped: the padding of
	// the previous entry and the header blocks of the next.
	pending  []byte
	prevEnd  int64 // end of the previous entry, padding included
	prevKept bool
	buf      []byte
}

// take feeds kept bytes to the joined stream's digests and size.
func (s *memberScan) take(b []byte, keep bool) {
	if keep {
		s.j.diff.Write(b)
		s.j.crc.Write(b)
		s.j.size += int64(len(b))
	}
}

// entries reads every entry up to the end-of-archive.
func (s *memberScan) entries() error {
	for {
		s.c.sink = &s.pending
		h, err := s.tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		if err := s.entry(h); err != nil {
			return err
		}
	}
}

// entry classifies h's header (as read, or as Rewrite replaces it), its data and padding.
func (s *memberScan) entry(h *tar.Header) error {
	if h.Typeflag == tar.TypeGNUSparse || hasSparse(h) {
		return fmt.Errorf("%s: sparse tar entries are not supported", h.Name)
	}
	keep, repl, err := s.classify(h)
	if err != nil {
		return err
	}
	// The entry starts where the previous one's padding ends.
	entryStart := s.prevEnd
	headerLen := s.c.n - entryStart
	s.take(s.pending[:int64(len(s.pending))-headerLen], s.prevKept)
	if repl != nil {
		s.take(repl, true)
		s.p.addDrop(span{entryStart, s.c.n, repl})
	} else {
		s.take(s.pending[int64(len(s.pending))-headerLen:], keep)
	}
	s.pending = s.pending[:0]
	dataEnd := s.c.n + dataLen(h)
	entryEnd := (dataEnd + 511) &^ 511
	if !keep {
		s.p.addDrop(span{entryStart, entryEnd, nil})
	}
	s.p.classifiedTo = entryEnd
	s.p.decide(s.last)
	s.c.sink = nil
	if err := s.data(h, keep); err != nil {
		return err
	}
	if s.c.n != dataEnd {
		return fmt.Errorf("%s: data ends at %d, expected %d", h.Name, s.c.n, dataEnd)
	}
	s.prevEnd, s.prevKept = entryEnd, keep
	return nil
}

// classify says whether h is kept and, when Rewrite changes it, the header bytes that
// replace it.
func (s *memberScan) classify(h *tar.Header) (keep bool, repl []byte, err error) {
	name := pathpkg.Clean(strings.TrimPrefix(h.Name, "./"))
	// archive/tar has read a global header's records already (its data): h.Size is 0.
	keep = h.Typeflag != tar.TypeXGlobalHeader && (s.in.Drop == nil || !s.in.Drop(name))
	if !keep || s.in.Rewrite == nil {
		return keep, nil, nil
	}
	hc := *h // Rewrite may change its copy
	if nh := s.in.Rewrite(name, &hc); nh != nil {
		if repl, err = headerBytes(h, nh); err != nil {
			return false, nil, fmt.Errorf("%s: rewriting the header: %w", h.Name, err)
		}
	}
	return true, repl, nil
}

// data reads h's data, feeding it to the digests if kept.
func (s *memberScan) data(h *tar.Header, keep bool) error {
	for {
		n, err := s.tr.Read(s.buf)
		s.take(s.buf[:n], keep)
		if err == io.EOF || n == 0 && err == nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
}

// endOfArchive reads the end-of-archive and anything after it: zeros, kept only by the
// last member.
func (s *memberScan) endOfArchive() error {
	s.c.sink = &s.pending
	if _, err := io.Copy(io.Discard, s.c); err != nil {
		return fmt.Errorf("after the tar end-of-archive: %w", err)
	}
	total := s.c.n
	// pending: the last entry's padding, then the end-of-archive and what follows it.
	if int64(len(s.pending)) < total-s.prevEnd {
		return errors.New("internal error: unaccounted bytes")
	}
	tail := s.pending[len(s.pending)-int(total-s.prevEnd):]
	s.take(s.pending[:len(s.pending)-len(tail)], s.prevKept)
	for i, b := range tail {
		if b != 0 {
			return fmt.Errorf("non-zero bytes after the tar end-of-archive (offset %d)", s.prevEnd+int64(i))
		}
	}
	s.take(tail, s.last)
	if !s.last && len(tail) > 0 {
		s.p.addDrop(span{s.prevEnd, total, nil})
	}
	s.p.classifiedTo = total
	s.p.decide(s.last)
	return nil
}

// checkTrailer reads the gzip trailer, and nothing after it, and checks it against the
// member's uncompressed bytes.
func checkTrailer(br *bufio.Reader, dec *Decoder, c *counter) error {
	rest, err := io.ReadAll(br)
	if err != nil {
		return err
	}
	rest = append(dec.Rest(), rest...)
	if len(rest) != 8 {
		return fmt.Errorf("not a single gzip member: %d bytes after the deflate data, want an 8-byte trailer", len(rest))
	}
	if crc, size := binary.LittleEndian.Uint32(rest), binary.LittleEndian.Uint32(rest[4:]); crc != c.crc.Sum32() || size != uint32(c.n) {
		return errors.New("gzip trailer does not match the data (corrupt member)")
	}
	return nil
}

// addDrop adds a span after the others. One that follows the previous span directly
// extends it, unless it has bytes of its own to write.
func (p *plan) addDrop(s span) {
	if n := len(p.drops); n > 0 && p.drops[n-1].to == s.from && s.repl == nil {
		p.drops[n-1].to = s.to
		return
	}
	p.drops = append(p.drops, s)
}

// dataLen is how many data bytes follow h in the stream: none for the header-only types,
// whatever the size field says (as archive/tar reads them).
func dataLen(h *tar.Header) int64 {
	switch h.Typeflag {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
		return 0
	}
	return h.Size
}

// headerBytes renders nh, the new header of the entry old, as archive/tar writes it (the
// format it picks, PAX records for what USTAR cannot hold). The entry's data stay, so nh
// must describe as many.
func headerBytes(old, nh *tar.Header) ([]byte, error) {
	switch nh.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink, tar.TypeGNUSparse:
		return nil, fmt.Errorf("cannot rewrite to a header of type %q", nh.Typeflag)
	}
	if dataLen(nh) != dataLen(old) {
		return nil, fmt.Errorf("the new header (type %q, size %d) does not describe the entry's %d data bytes", nh.Typeflag, nh.Size, dataLen(old))
	}
	h := *nh
	h.Format = tar.FormatUnknown // whichever can hold it
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&h); err != nil {
		return nil, err
	}
	// No Flush: the data are the entry's own, and the writer would pad them.
	return b.Bytes(), nil
}

// emit writes a member's blocks: runs of copied blocks bit for bit, runs of re-encoded
// blocks through a fresh compressor (its matches must not reach the copied bytes it never
// saw), each run ending byte-aligned and not final, except the last member's final block.
func (j *joiner) emit(f *os.File, p *plan, last bool) error {
	var seq *Decoder // decodes the whole member when windows were not kept
	var seqAt int64
	if p.decodeTwice {
		j.stats.DecodedTwice++
		seq = NewDecoder(io.NewSectionReader(f, p.start, 1<<62))
	}
	blocks := p.blocks
	for i := 0; i < len(blocks); {
		k := i
		for k+1 < len(blocks) && blocks[k+1].reencode == blocks[i].reencode {
			k++
		}
		first, lastB := blocks[i], blocks[k]
		endsStream := last && k == len(blocks)-1
		if !first.reencode {
			if seq != nil {
				if _, err := io.CopyN(io.Discard, seq, lastB.end-seqAt); err != nil {
					return err
				}
				seqAt = lastB.end
			}
			if err := j.copyRun(f, p.start, blocks[i:k+1], endsStream); err != nil {
				return err
			}
			if !endsStream {
				j.bw.syncMarker()
			}
		} else {
			var r io.Reader = seq
			if seq == nil {
				d, err := NewDecoderAt(io.NewSectionReader(f, p.start+first.Bit/8, 1<<62), uint(first.Bit%8), first.window)
				if err != nil {
					return err
				}
				r = d
			}
			if err := j.reencode(r, p, first.Out, lastB.end, endsStream); err != nil {
				return err
			}
			seqAt = lastB.end
		}
		i = k + 1
	}
	if last && p.finalCopied {
		j.bw.align()
	}
	return j.bw.err
}

// copyRun writes blocks as they are. Huffman blocks are copied bit for bit; stored blocks
// pad their header to a byte boundary, which moves with the bit offset, so they get a new
// header and their bytes are copied (empty ones are left out).
func (j *joiner) copyRun(f *os.File, start int64, run []*block, endsStream bool) error {
	from := int64(-1) // start of the pending bit range of Huffman blocks
	flushBits := func(to int64) error {
		if from < 0 {
			return nil
		}
		err := j.bw.copyBits(f, start, from, to)
		j.stats.CopiedBits += to - from
		from = -1
		return err
	}
	for n, b := range run {
		if !b.Stored {
			if from < 0 {
				from = b.Bit
			}
			continue
		}
		if err := flushBits(b.Bit); err != nil {
			return err
		}
		final := endsStream && n == len(run)-1
		size := b.end - b.Out
		if size == 0 && !final {
			continue
		}
		fin := uint64(0)
		if final {
			fin = 1
		}
		j.bw.bits(fin, 3) // BFINAL, BTYPE 00
		j.bw.align()
		j.bw.bytes([]byte{byte(size), byte(size >> 8), ^byte(size), ^byte(size >> 8)})
		// The bytes follow the source header, its padding, LEN and NLEN.
		if err := j.bw.copyBits(f, start, ((b.Bit+3+7)/8+4)*8, ((b.Bit+3+7)/8+4+size)*8); err != nil {
			return err
		}
		j.stats.CopiedBits += size * 8
	}
	return flushBits(run[len(run)-1].endBit)
}

// reencode compresses the kept bytes of [from, to), read from r, which is positioned at from.
func (j *joiner) reencode(r io.Reader, p *plan, from, to int64, final bool) error {
	if err := j.bw.flush(); err != nil {
		return err
	}
	if j.fw == nil {
		fw, err := kflate.NewWriter(j.bw.w, j.level)
		if err != nil {
			return err
		}
		j.fw = fw
	} else {
		j.fw.Reset(j.bw.w)
	}
	pos := from
	for _, s := range append(p.drops, span{to, to, nil}) {
		if s.to <= pos {
			continue
		}
		keepTo := min(s.from, to)
		if keepTo > pos {
			if _, err := io.CopyN(j.fw, r, keepTo-pos); err != nil {
				return fmt.Errorf("re-encoding: %w", err)
			}
			j.stats.ReencodedBytes += keepTo - pos
			pos = keepTo
		}
		if pos >= to {
			break
		}
		// A span lies within one run: every block it touches is re-encoded.
		if s.repl != nil && s.from == pos {
			if _, err := j.fw.Write(s.repl); err != nil {
				return fmt.Errorf("re-encoding: %w", err)
			}
			j.stats.ReencodedBytes += int64(len(s.repl))
		}
		skipTo := min(s.to, to)
		if _, err := io.CopyN(io.Discard, r, skipTo-pos); err != nil {
			return fmt.Errorf("re-encoding: %w", err)
		}
		pos = skipTo
	}
	if final {
		return j.fw.Close()
	}
	// A sync flush: the stream goes on byte-aligned, without a final block.
	return j.fw.Flush()
}

func hasSparse(h *tar.Header) bool {
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// counter counts a member's uncompressed bytes and their CRC, and appends them to sink.
type counter struct {
	r    io.Reader
	n    int64
	crc  hash.Hash32
	sink *[]byte
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.crc.Write(p[:n])
		if c.sink != nil {
			*c.sink = append(*c.sink, p[:n]...)
		}
	}
	return n, err
}

// bitWriter writes deflate's LSB-first bit stream.
type bitWriter struct {
	w   *bufio.Writer
	acc uint64
	n   uint // bits in acc, < 8 between calls
	err error
	tmp []byte
}

func (b *bitWriter) bits(v uint64, k uint) {
	b.acc |= v << b.n
	b.n += k
	for b.n >= 8 {
		b.w.WriteByte(byte(b.acc))
		b.acc >>= 8
		b.n -= 8
	}
}

func (b *bitWriter) bytes(p []byte) {
	if b.n == 0 {
		b.w.Write(p)
		return
	}
	b.tmp = b.tmp[:0]
	acc, n := b.acc, b.n
	for len(p) >= 8 {
		v := binary.LittleEndian.Uint64(p)
		b.tmp = binary.LittleEndian.AppendUint64(b.tmp, acc|v<<n)
		acc = v >> (64 - n)
		p = p[8:]
	}
	for _, x := range p {
		acc |= uint64(x) << n
		b.tmp = append(b.tmp, byte(acc))
		acc >>= 8
	}
	b.acc = acc
	b.w.Write(b.tmp)
}

// align pads with zero bits to a byte boundary.
func (b *bitWriter) align() {
	if b.n > 0 {
		b.bits(0, 8-b.n)
	}
}

// syncMarker writes an empty stored block (BFINAL 0), which ends byte-aligned.
func (b *bitWriter) syncMarker() {
	b.bits(0, 3)
	b.align()
	b.bytes([]byte{0, 0, 0xff, 0xff})
}

// flush makes the stream byte-aligned (callers only flush where it is) and hands the
// bytes to the underlying writer, which others then write to directly.
func (b *bitWriter) flush() error {
	if b.n != 0 {
		return errors.New("internal error: bit stream not byte-aligned")
	}
	return b.err
}

// copyBits copies bits [from, to) of the deflate data that starts at byte start of f.
func (b *bitWriter) copyBits(f *os.File, start, from, to int64) error {
	if from >= to {
		return nil
	}
	r := bufio.NewReaderSize(io.NewSectionReader(f, start+from/8, (to+7)/8-from/8), 1<<16)
	if s := uint(from % 8); s != 0 {
		x, err := r.ReadByte()
		if err != nil {
			return err
		}
		k := min(8-s, uint(to-from))
		b.bits(uint64(x>>s)&(1<<k-1), k)
		from += int64(k)
	}
	chunk := make([]byte, 32<<10)
	for to-from >= 8 {
		n := min(int64(len(chunk)), (to-from)/8)
		if _, err := io.ReadFull(r, chunk[:n]); err != nil {
			return err
		}
		b.bytes(chunk[:n])
		from += n * 8
	}
	if k := uint(to - from); k > 0 {
		x, err := r.ReadByte()
		if err != nil {
			return err
		}
		b.bits(uint64(x)&(1<<k-1), k)
	}
	return nil
}

// gzipHeader reads a gzip member header and returns its length.
func gzipHeader(br *bufio.Reader) (int64, error) {
	var h [10]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, fmt.Errorf("gzip header: %w", err)
	}
	if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
		return 0, errors.New("not a gzip (deflate) stream")
	}
	flg := h[3]
	if flg&0xe0 != 0 {
		return 0, errors.New("gzip header: reserved flags set")
	}
	n := int64(10)
	if flg&4 != 0 { // FEXTRA
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return 0, fmt.Errorf("gzip header: %w", err)
		}
		x := int64(binary.LittleEndian.Uint16(l[:]))
		if _, err := io.CopyN(io.Discard, br, x); err != nil {
			return 0, fmt.Errorf("gzip header: %w", err)
		}
		n += 2 + x
	}
	for _, bit := range []byte{8, 16} { // FNAME, FCOMMENT: zero-terminated
		if flg&bit != 0 {
			s, err := br.ReadBytes(0)
			if err != nil {
				return 0, fmt.Errorf("gzip header: %w", err)
			}
			n += int64(len(s))
		}
	}
	if flg&2 != 0 { // FHCRC
		if _, err := io.CopyN(io.Discard, br, 2); err != nil {
			return 0, fmt.Errorf("gzip header: %w", err)
		}
		n += 2
	}
	return n, nil
}
