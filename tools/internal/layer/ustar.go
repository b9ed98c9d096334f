package layer

import (
	"archive/tar"
	"fmt"
	"io"
)

// tarWriter is a tar.Writer with a faster path for the headers a layer mostly holds: a
// regular file, directory or symlink whose fields all fit a USTAR header. archive/tar
// writes those as USTAR too, after checks that cost more than the header for 100,000
// small files; ustarBlock writes the same 512 bytes (TestUstarBlock, FuzzUstarBlock).
// Any other header goes to the tar.Writer, which writes into the same stream.
type tarWriter struct {
	tw *tar.Writer
	w  io.Writer // what tw writes to
	// fast says the current entry's header was written here; left and pad are then its
	// bytes still to come and the zeros that end its last block.
	fast      bool
	left, pad int64
	blk       [blockSize]byte
}

const blockSize = 512

var zeroBlock [blockSize]byte

func newTarWriter(w io.Writer) *tarWriter { return &tarWriter{tw: tar.NewWriter(w), w: w} }

// WriteHeader starts an entry, as tar.Writer's does.
func (t *tarWriter) WriteHeader(h *tar.Header) error {
	if err := t.endFast(); err != nil {
		return err
	}
	if !ustarBlock(&t.blk, h) {
		return t.tw.WriteHeader(h)
	}
	// The tar.Writer's last entry, if it wrote one, gets its padding first.
	if err := t.tw.Flush(); err != nil {
		return err
	}
	t.fast, t.left = true, 0
	if h.Typeflag == tar.TypeReg {
		t.left = h.Size
	}
	t.pad = -t.left & (blockSize - 1)
	_, err := t.w.Write(t.blk[:])
	return err
}

// Write writes the current entry's bytes.
func (t *tarWriter) Write(p []byte) (int, error) {
	if !t.fast {
		return t.tw.Write(p)
	}
	if int64(len(p)) > t.left {
		return 0, tar.ErrWriteTooLong
	}
	n, err := t.w.Write(p)
	t.left -= int64(n)
	return n, err
}

// endFast ends an entry whose header was written here: its padding.
func (t *tarWriter) endFast() error {
	if !t.fast {
		return nil
	}
	if t.left != 0 {
		return fmt.Errorf("archive/tar: missed writing %d bytes", t.left)
	}
	t.fast = false
	_, err := t.w.Write(zeroBlock[:t.pad])
	return err
}

// Close ends the archive, as tar.Writer's does.
func (t *tarWriter) Close() error {
	if err := t.endFast(); err != nil {
		return err
	}
	return t.tw.Close()
}

// ustarBlock fills blk with h's USTAR header and says so, when h is a regular file,
// directory or symlink that archive/tar would write as USTAR with h.Format PAX: ASCII names
// that fit their fields (no prefix split), numbers that fit in octal, a whole-second mtime,
// no PAX records. Otherwise it says no and blk holds nothing of use.
func ustarBlock(blk *[blockSize]byte, h *tar.Header) bool {
	switch h.Typeflag {
	case tar.TypeReg:
		if len(h.Name) > 0 && h.Name[len(h.Name)-1] == '/' {
			return false // archive/tar refuses it
		}
	case tar.TypeDir, tar.TypeSymlink:
	default:
		return false
	}
	mtime := int64(0)
	if !h.ModTime.IsZero() {
		if h.ModTime.Nanosecond() != 0 {
			return false
		}
		mtime = h.ModTime.Unix()
	}
	if !plain(h.Name, 100) || !plain(h.Linkname, 100) || !plain(h.Uname, 32) || !plain(h.Gname, 32) ||
		!octal(h.Mode, 8) || !octal(int64(h.Uid), 8) || !octal(int64(h.Gid), 8) || !octal(h.Size, 12) ||
		!octal(mtime, 12) || h.Devmajor != 0 || h.Devminor != 0 ||
		// Xattrs is deprecated, but a caller's header may still set it and tar.Writer writes it.
		//lint:ignore SA1019 a header with Xattrs is not plain ustar
		len(h.PAXRecords) != 0 || len(h.Xattrs) != 0 || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() ||
		h.Format != tar.FormatPAX && h.Format != tar.FormatUSTAR {
		return false
	}
	*blk = zeroBlock
	copy(blk[0:100], h.Name)
	putOctal(blk[100:108], h.Mode)
	putOctal(blk[108:116], int64(h.Uid))
	putOctal(blk[116:124], int64(h.Gid))
	putOctal(blk[124:136], h.Size)
	putOctal(blk[136:148], mtime)
	blk[156] = h.Typeflag
	copy(blk[157:257], h.Linkname)
	copy(blk[257:265], "ustar\x0000")
	copy(blk[265:297], h.Uname)
	copy(blk[297:329], h.Gname)
	putOctal(blk[329:337], 0)
	putOctal(blk[337:345], 0)
	sum := int64(8 * ' ') // the checksum field counts as spaces
	for i, c := range blk {
		if i < 148 || i >= 156 {
			sum += int64(c)
		}
	}
	putOctal(blk[148:155], sum)
	blk[155] = ' '
	return true
}

// plain says whether s is ASCII without NUL and at most n bytes: a USTAR field as is.
func plain(s string, n int) bool {
	if len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// octal says whether x fits a field of n bytes: n-1 octal digits and a NUL.
func octal(x int64, n int) bool { return x >= 0 && x < 1<<(3*(n-1)) }

// putOctal writes x as len(b)-1 zero-padded octal digits and a NUL.
func putOctal(b []byte, x int64) {
	for i := len(b) - 2; i >= 0; i-- {
		b[i] = byte('0' + x&7)
		x >>= 3
	}
	b[len(b)-1] = 0
}
