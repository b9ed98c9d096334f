// Package apkfile reads and verifies APK v2 packages: a signature member (optional), a
// control member and a data member, each a gzip stream, concatenated. The signature covers
// the raw bytes of the control member; the control member's .PKGINFO carries the sha256 of
// the raw data member. It also holds what the build learns from a package (Facts) and
// checks a package against its lock (Locked, VerifyAll). An APKINDEX is read with the same
// member reader (MemberReader, ReadSignature).
package apkfile

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	// Inflates about 1.5x faster than compress/gzip (same streams, same results); inflating
	// data members is most of what apk-extract spends.
	"github.com/klauspost/compress/gzip"
)

// Limits that bound memory and work for hostile input. Real control members are a few KiB.
const (
	maxSignatureMember = 1 << 20
	maxControlMember   = 32 << 20
	maxControlFile     = 16 << 20
)

// Head is everything before the data member.
type Head struct {
	// Signatures found in the signature member, in order. Empty for unsigned packages.
	Signatures []Signature
	// SignatureSize is the raw size of the signature member (0 when unsigned).
	SignatureSize int64
	// Control is the raw (compressed) control member, as signed.
	Control []byte
	// ControlFiles maps control member file names (.PKGINFO, .pre-install, ...) to content.
	ControlFiles map[string][]byte
	// ControlNames lists the control member entries in archive order.
	ControlNames []string
	// ControlModes holds each control file's permission bits.
	ControlModes map[string]int64
	// PkgInfo is the parsed .PKGINFO.
	PkgInfo *PkgInfo
}

// DataOffset is where the data member starts.
func (h *Head) DataOffset() int64 { return h.SignatureSize + int64(len(h.Control)) }

// ControlSHA1 is the sha1 of the raw control member (the lock's control checksum and
// APKINDEX's C: field).
func (h *Head) ControlSHA1() []byte {
	s := sha1.Sum(h.Control)
	return s[:]
}

// Signature is one .SIGN.RSA.<key> or .SIGN.RSA256.<key> entry.
type Signature struct {
	// Hash is "sha1" for .SIGN.RSA and "sha256" for .SIGN.RSA256.
	Hash string
	// KeyName is the key file name the signature names.
	KeyName string
	// Value is the PKCS#1 v1.5 signature.
	Value []byte
}

// MemberReader reads the gzip members of an APK or APKINDEX one after another: a
// bufio.Reader that counts consumed bytes and optionally records them. It implements
// io.ByteReader, so gzip/flate read exactly to the end of each member.
type MemberReader struct {
	r   *bufio.Reader
	n   int64
	rec *bytes.Buffer
	max int64
}

var errMemberTooLarge = errors.New("member exceeds size limit")

func (c *MemberReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.rec != nil {
		c.rec.Write(p[:n])
		if int64(c.rec.Len()) > c.max {
			return n, errMemberTooLarge
		}
	}
	return n, err
}

func (c *MemberReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
		if c.rec != nil {
			c.rec.WriteByte(b)
			if int64(c.rec.Len()) > c.max {
				return b, errMemberTooLarge
			}
		}
	}
	return b, err
}

// NewMemberReader reads members from r's start.
func NewMemberReader(r io.Reader) *MemberReader {
	return &MemberReader{r: bufio.NewReaderSize(r, 64*1024)}
}

// Member reads one gzip member at the current position as a tar stream without
// end-of-archive blocks, calling fn for each regular entry. It returns the member's raw bytes.
func (c *MemberReader) Member(limit int64, fn func(h *tar.Header, r io.Reader) error) ([]byte, error) {
	c.rec, c.max = &bytes.Buffer{}, limit
	defer func() { c.rec = nil }()
	zr, err := gzip.NewReader(c)
	if err != nil {
		return nil, fmt.Errorf("not a gzip member: %w", err)
	}
	zr.Multistream(false)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		if err := fn(h, tr); err != nil {
			return nil, err
		}
	}
	// Consume the gzip trailer (tar may stop before the member's end).
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("reading gzip member: %w", err)
	}
	if err := zr.Close(); err != nil {
		return nil, err
	}
	return c.rec.Bytes(), nil
}

// ReadHead reads the signature (if any) and control members from r. On success r is
// positioned at the first byte of the data member (use Rest to continue reading it).
func ReadHead(r io.Reader) (*Head, *Rest, error) {
	c := NewMemberReader(r)
	h := &Head{ControlFiles: map[string][]byte{}, ControlModes: map[string]int64{}}

	var first []string
	var sigs []Signature
	raw, err := c.Member(maxControlMember, func(th *tar.Header, tr io.Reader) error {
		first = append(first, th.Name)
		if strings.HasPrefix(th.Name, ".SIGN.") {
			sig, err := ReadSignature(th, tr)
			sigs = append(sigs, sig)
			return err
		}
		return h.addControlFile(th, tr)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("first gzip member: %w", err)
	}
	switch {
	case len(sigs) > 0 && len(h.ControlNames) > 0:
		return nil, nil, errors.New("first member mixes signatures and control files")
	case len(sigs) > 0:
		if int64(len(raw)) > maxSignatureMember {
			return nil, nil, errors.New("signature member too large")
		}
		h.Signatures, h.SignatureSize = sigs, int64(len(raw))
		ctl, err := c.Member(maxControlMember, h.addControlFile)
		if err != nil {
			return nil, nil, fmt.Errorf("control member: %w", err)
		}
		h.Control = append([]byte(nil), ctl...)
	case len(first) == 0:
		return nil, nil, errors.New("first gzip member is an empty tar")
	default:
		h.Control = append([]byte(nil), raw...)
	}
	info, ok := h.ControlFiles[".PKGINFO"]
	if !ok {
		return nil, nil, errors.New("control member has no .PKGINFO")
	}
	if h.PkgInfo, err = ParsePkgInfo(info); err != nil {
		return nil, nil, fmt.Errorf(".PKGINFO: %w", err)
	}
	return h, &Rest{c: c}, nil
}

func (h *Head) addControlFile(th *tar.Header, tr io.Reader) error {
	if th.Typeflag != tar.TypeReg { // tar.Reader gives TypeRegA entries as TypeReg
		return fmt.Errorf("control member entry %q is not a regular file", th.Name)
	}
	if strings.Contains(th.Name, "/") || !strings.HasPrefix(th.Name, ".") {
		return fmt.Errorf("unexpected control member entry %q", th.Name)
	}
	if _, dup := h.ControlFiles[th.Name]; dup {
		return fmt.Errorf("duplicate control member entry %q", th.Name)
	}
	b, err := ReadLimited(tr, maxControlFile, th.Name)
	if err != nil {
		return err
	}
	h.ControlFiles[th.Name] = b
	h.ControlModes[th.Name] = th.Mode & 0o7777
	h.ControlNames = append(h.ControlNames, th.Name)
	return nil
}

// ReadLimited reads r whole, failing (naming name) past limit bytes.
func ReadLimited(r io.Reader, limit int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}

// ReadSignature reads a signature member's .SIGN.RSA.<key> or .SIGN.RSA256.<key> entry
// (a package's or an APKINDEX's).
func ReadSignature(h *tar.Header, r io.Reader) (Signature, error) {
	sig, err := parseSignatureName(h.Name)
	if err != nil {
		return sig, err
	}
	sig.Value, err = ReadLimited(r, maxSignatureMember, h.Name)
	return sig, err
}

func parseSignatureName(name string) (Signature, error) {
	switch {
	case strings.HasPrefix(name, ".SIGN.RSA256."):
		return Signature{Hash: "sha256", KeyName: strings.TrimPrefix(name, ".SIGN.RSA256.")}, nil
	case strings.HasPrefix(name, ".SIGN.RSA."):
		return Signature{Hash: "sha1", KeyName: strings.TrimPrefix(name, ".SIGN.RSA.")}, nil
	}
	return Signature{}, fmt.Errorf("unsupported signature entry %q", name)
}

// Rest is the remainder of an APK after its head: the data member.
type Rest struct{ c *MemberReader }

// DataResult describes the data member as streamed by CopyData.
type DataResult struct {
	Size   int64  // compressed size
	SHA256 []byte // sha256 of the compressed bytes (the layer digest, the .PKGINFO datahash)
	DiffID []byte // sha256 of the uncompressed tar (the layer diff_id)
	// TarSize is the uncompressed size.
	TarSize int64
	// Entries lists the data tar's entries in archive order.
	Entries []Entry
	// OSRelease holds the content of the package's etc/os-release and usr/lib/os-release
	// when they are regular files: the image's distribution ID for SBOM package URLs.
	OSRelease map[string]string
	// Ldso is what the image's /etc/ld.so.cache needs from the package.
	Ldso *Ldso
}

// OSReleasePaths are the files an SBOM reads the distribution from, in syft's order.
var OSReleasePaths = []string{"etc/os-release", "usr/lib/os-release"}

// maxOSRelease bounds what is kept of an os-release file (real ones are a few hundred bytes).
const maxOSRelease = 64 << 10

// CopyData streams the data member to w (may be nil) in one pass, computing its digest
// and diff_id. maxTar bounds the uncompressed size (a zip bomb fails, not fills a disk).
func (r *Rest) CopyData(w io.Writer, maxTar int64) (*DataResult, error) {
	raw := sha256.New()
	dst := io.Writer(raw)
	if w != nil {
		dst = io.MultiWriter(w, raw)
	}
	var size int64
	tee := io.TeeReader(r.c, writerFunc(func(p []byte) (int, error) {
		size += int64(len(p))
		return dst.Write(p)
	}))
	zr, err := gzip.NewReader(tee)
	if err != nil {
		return nil, fmt.Errorf("data member: not gzip: %w", err)
	}
	// The uncompressed stream is hashed (diff_id) and walked as a tar in the same pass.
	diff := sha256.New()
	limited := &limitedReader{r: zr, left: maxTar}
	tr := tar.NewReader(io.TeeReader(limited, diff))
	sc := newScanner()
	osRelease := map[string]string{}
	ld := &ldsoReader{}
	defer ld.close()
	// A read that fails because the stream outgrew maxTar is reported as that, whatever
	// the reader made of the cut stream.
	readErr := func(name string, err error) error {
		if limited.exceeded {
			return fmt.Errorf("data member expands beyond %d bytes", maxTar)
		}
		if name == "" {
			return fmt.Errorf("data member: %w", err)
		}
		return fmt.Errorf("data member: %s: %w", name, err)
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readErr("", err)
		}
		if err := sc.add(h); err != nil {
			return nil, fmt.Errorf("data member: %w", err)
		}
		if err := keepOSRelease(h, tr, osRelease); err != nil {
			return nil, fmt.Errorf("data member: %s: %w", h.Name, err)
		}
		if err := ld.keep(h, len(sc.entries)-1, tr); err != nil {
			return nil, readErr(h.Name, err)
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return nil, readErr(h.Name, err)
		}
	}
	// The end-of-archive blocks and any padding after them belong to the diff_id too.
	if _, err := io.Copy(diff, limited); err != nil {
		return nil, fmt.Errorf("data member: %w", err)
	}
	if limited.exceeded {
		return nil, fmt.Errorf("data member expands beyond %d bytes", maxTar)
	}
	n := maxTar - limited.left
	// Whatever follows in the stream is part of the "data member" bytes, so a trailing
	// garbage byte fails the digest check instead of passing unnoticed.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return nil, fmt.Errorf("data member: %w", err)
	}
	if len(osRelease) == 0 {
		osRelease = nil
	}
	return &DataResult{Size: size, SHA256: raw.Sum(nil), DiffID: diff.Sum(nil), TarSize: n, Entries: sc.entries, OSRelease: osRelease, Ldso: &ld.facts}, nil
}

// keepOSRelease reads h into osRelease when it is one of OSReleasePaths, a regular file
// of at most maxOSRelease bytes.
func keepOSRelease(h *tar.Header, r io.Reader, osRelease map[string]string) error {
	// The name test first: it spares every other entry a second path cleaning.
	if !strings.HasSuffix(h.Name, "os-release") || h.Typeflag != tar.TypeReg || h.Size > maxOSRelease {
		return nil
	}
	p, _ := cleanMemberPath(h.Name)
	if !slices.Contains(OSReleasePaths, p) {
		return nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	osRelease[p] = string(b)
	return nil
}

// limitedReader fails once more than left bytes were read (a zip bomb stops early).
type limitedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe for one more byte: only then is the limit really exceeded.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.exceeded = true
			return 0, errMemberTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
