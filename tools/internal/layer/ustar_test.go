package layer

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"
	"time"
)

// writeBoth writes the same entries through tarWriter and through archive/tar alone, and
// says how many headers tarWriter wrote itself.
func writeBoth(t testing.TB, hs []*tar.Header) (fast, slow []byte, own int) {
	var a, b bytes.Buffer
	tw, ref := newTarWriter(&a), tar.NewWriter(&b)
	var blk [blockSize]byte
	for _, h := range hs {
		if ustarBlock(&blk, h) {
			own++
		}
		var data []byte
		if h.Size > 0 {
			data = bytes.Repeat([]byte{'x'}, int(h.Size))
		}
		errA, errB := tw.WriteHeader(h), ref.WriteHeader(h)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("%+v: tarWriter says %v, archive/tar %v", h, errA, errB)
		}
		if errA != nil {
			continue
		}
		// The bytes of the size given, which a header-only type refuses in both.
		_, errA = tw.Write(data)
		_, errB = ref.Write(data)
		if errA != errB {
			t.Fatalf("%+v: tarWriter's Write says %v, archive/tar's %v", h, errA, errB)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ref.Close(); err != nil {
		t.Fatal(err)
	}
	return a.Bytes(), b.Bytes(), own
}

// The headers written without archive/tar are byte for byte its own, at the edges of
// every field, and the ones past an edge go to archive/tar in the same stream.
func TestUstarBlock(t *testing.T) {
	at := func(sec, nsec int64) time.Time { return time.Unix(sec, nsec) }
	pax := func(h tar.Header) *tar.Header { h.Format = tar.FormatPAX; return &h }
	hs := []*tar.Header{
		pax(tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}),
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: 3, ModTime: Epoch}),
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "empty", Size: 0, Mode: 0o600}),
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "block", Size: 512, Mode: 0o7777, Uid: 1<<21 - 1, Gid: 65534}),
		pax(tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: "/bin/busybox", Mode: 0o777}),
		pax(tar.Header{Typeflag: tar.TypeReg, Name: strings.Repeat("n", 100), Size: 1}),
		pax(tar.Header{Typeflag: tar.TypeReg, Name: strings.Repeat("n", 101), Size: 1}),            // prefix split
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "d/" + strings.Repeat("n", 200), Size: 1}),     // PAX path
		pax(tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: strings.Repeat("t", 100)}),  //
		pax(tar.Header{Typeflag: tar.TypeSymlink, Name: "l2", Linkname: strings.Repeat("t", 101)}), // PAX linkpath
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "caf\u00e9", Size: 1}),                         // not ASCII
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "owned", Uname: "nonroot", Gname: "nonroot", Uid: 65532, Gid: 65532}),
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "owned2", Uname: strings.Repeat("u", 32)}),                  //
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "owned3", Uname: strings.Repeat("u", 33)}),                  // PAX uname
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "bigid", Uid: 1 << 21}),                                     // PAX uid
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "t1", ModTime: at(1700000000, 0), Size: 2}),                 //
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "t2", ModTime: at(1700000000, 5), Size: 2}),                 // PAX mtime
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "t3", ModTime: at(1<<33-1, 0)}),                             //
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "t4", ModTime: at(1<<33, 0)}),                               // PAX mtime
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "t5", ModTime: at(-1, 0)}),                                  // PAX mtime
		pax(tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Devmajor: 1, Devminor: 3, Mode: 0o666}),        // not a fast type
		pax(tar.Header{Typeflag: tar.TypeLink, Name: "hard", Linkname: "etc/passwd"}),                           // not a fast type
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "x", PAXRecords: map[string]string{"SCHILY.xattr.a": "b"}}), // records
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "slash/", Size: 1}),                                         // refused by both
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "neg", Size: -1}),                                           // refused by both
		pax(tar.Header{Typeflag: tar.TypeReg, Name: "nul\x00", Size: 1}),                                        // PAX, not plain
		{Typeflag: tar.TypeReg, Name: "unknown-format", Size: 1, ModTime: at(5, 7)},                             // Format unset
		pax(tar.Header{Typeflag: tar.TypeDir, Name: "last/", Mode: 0o700}),
	}
	fast, slow, own := writeBoth(t, hs)
	if !bytes.Equal(fast, slow) {
		t.Fatalf("tarWriter's archive differs from archive/tar's (%d and %d bytes)", len(fast), len(slow))
	}
	if own != 12 {
		t.Fatalf("%d headers written without archive/tar, want 12", own)
	}
	if _, err := tar.NewReader(bytes.NewReader(fast)).Next(); err != nil {
		t.Fatal(err)
	}
}

// A file written short or long through the fast path fails as with archive/tar.
func TestUstarBlockWrongSize(t *testing.T) {
	tw := newTarWriter(&bytes.Buffer{})
	h := &tar.Header{Typeflag: tar.TypeReg, Name: "f", Size: 2, Format: tar.FormatPAX}
	if err := tw.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte("abc")); err != tar.ErrWriteTooLong {
		t.Fatalf("got %v, want %v", err, tar.ErrWriteTooLong)
	}
	if _, err := tw.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err == nil || !strings.Contains(err.Error(), "missed writing 1 bytes") {
		t.Fatalf("got %v, want the missing byte named", err)
	}
}

// FuzzUstarBlock: whatever the fields, tarWriter writes what archive/tar writes.
func FuzzUstarBlock(f *testing.F) {
	f.Add(byte('0'), "etc/passwd", "", "", int64(0o644), 0, int64(3), int64(0), int64(0))
	f.Add(byte('5'), "etc/", "", "root", int64(0o755), 1<<21-1, int64(0), int64(1<<33-1), int64(0))
	f.Add(byte('2'), "bin/sh", "/bin/busybox", "", int64(0o777), 0, int64(0), int64(-1), int64(1))
	f.Fuzz(func(t *testing.T, typ byte, name, link, uname string, mode int64, uid int, size, sec, nsec int64) {
		if size < 0 || size > 4096 {
			size &= 4095
		}
		h := &tar.Header{Typeflag: typ, Name: name, Linkname: link, Uname: uname, Gname: uname, Mode: mode,
			Uid: uid, Gid: uid, Size: size, ModTime: time.Unix(sec, nsec%1e9), Format: tar.FormatPAX}
		fast, slow, _ := writeBoth(t, []*tar.Header{h, {Typeflag: tar.TypeReg, Name: "after", Size: 1, Format: tar.FormatPAX}})
		if !bytes.Equal(fast, slow) {
			t.Fatalf("%+v: tarWriter's archive differs from archive/tar's", h)
		}
	})
}
