package ldso

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func conf(s string) File { return File{Size: int64(len(s)), Content: []byte(s), HasContent: true} }

func lib(sonames ...string) File {
	return File{Size: 100, Lib: &Lib{Machine: uint16(elf.EM_X86_64), Sonames: sonames}}
}

// names decodes a cache into "flags key path" lines.
func names(t *testing.T, b []byte) []string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("glibc-ld.so.cache1.1")) || len(b)%16 != 0 {
		t.Fatalf("not a cache of whole 16-byte blocks: %q", b)
	}
	le := binary.LittleEndian
	str := func(off uint32) string { s, _, _ := bytes.Cut(b[off:], []byte{0}); return string(s) }
	var out []string
	for i := 0; i < int(le.Uint32(b[20:])); i++ {
		e := b[headerSize+i*entrySize:]
		out = append(out, fmt.Sprintf("%#x %s %s", le.Uint32(e), str(le.Uint32(e[4:])), str(le.Uint32(e[8:]))))
	}
	return out
}

func TestEncode(t *testing.T) {
	// No entry: the 48-byte header, then 16 zero bytes (apko pads an aligned end too).
	if b := encode(nil); len(b) != 64 || !bytes.Equal(b[48:], make([]byte, 16)) || binary.LittleEndian.Uint32(b[24:]) != 0 {
		t.Errorf("empty cache: %q", b)
	}
	b := encode([]entry{{"/usr/lib/libc.so.6", flagsX8664}, {"/libroot.so", flagsAArch64}})
	le := binary.LittleEndian
	if le.Uint32(b[20:]) != 2 || le.Uint32(b[24:]) != uint32(len("/usr/lib/libc.so.6\x00/libroot.so\x00")) {
		t.Errorf("header: %q", b[:48])
	}
	if got := string(b[96:127]); got != "/usr/lib/libc.so.6\x00/libroot.so\x00" {
		t.Errorf("string table %q", got)
	}
	e0, e1 := b[48:72], b[72:96]
	if le.Uint32(e0) != 0x303 || le.Uint32(e0[8:]) != 96 || int(le.Uint32(e0[4:])) != 96+len("/usr/lib/") {
		t.Errorf("first entry %x", e0)
	}
	// A library in / gets apko's key: one byte past the "/" (filepath.Dir is "/", plus one).
	if le.Uint32(e1) != 0xa03 || le.Uint32(e1[8:]) != 115 || le.Uint32(e1[4:]) != 117 {
		t.Errorf("second entry %x", e1)
	}
	if len(b) != 128 || b[127] != 0 {
		t.Errorf("size %d, want 127 padded to 128", len(b))
	}
}

func TestLibcmp(t *testing.T) {
	in := []string{"libfoo.so.9", "libfoo.so.10", "libfoo.so", "libfoo.so.1", "liba.so", "libfoo2.so", "libfoo.so.1a"}
	slices.SortFunc(in, libcmp)
	want := "liba.so libfoo.so libfoo.so.1 libfoo.so.1a libfoo.so.9 libfoo.so.10 libfoo2.so"
	if got := strings.Join(in, " "); got != want {
		t.Errorf("order %s\nwant  %s", got, want)
	}
}

func glibc() *Tree {
	t := NewTree()
	t.Dir("lib", "")
	t.Dir("etc/ld.so.conf.d", "glibc-2.40-r1")
	t.AddFile("etc/ld.so.conf", "glibc-2.40-r1", conf("# dirs\n/usr/local/lib\ninclude /etc/ld.so.conf.d/*.conf\n/after\n"))
	t.AddFile("etc/ld.so.conf.d/a.conf", "glibc-2.40-r1", conf("/usr/lib\n/usr/lib\n"))
	t.AddFile("lib/libc.so.6", "glibc-2.40-r1", lib("libc.so.6"))
	t.AddFile("usr/lib/libfoo.so.1.2", "foo-1-r0", lib("libfoo.so.1"))
	t.Symlink("usr/lib/libfoo.so.1", "libfoo.so.1.2", "foo-1-r0")
	t.Symlink("usr/lib/libfoo.so", "/usr/lib/libfoo.so.1", "foo-1-r0")
	t.AddFile("usr/lib/libnone.so", "foo-1-r0", lib())
	t.AddFile("usr/lib/libbad.so.1", "foo-1-r0", File{Size: 9, Lib: &Lib{NotShared: "bad magic number"}})
	t.AddFile("usr/lib/libc.so", "glibc-2.40-r1", File{Size: 40, Lib: &Lib{NotShared: "bad magic number"}})
	return t
}

func TestCache(t *testing.T) {
	b, err := glibc().Cache()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0x303 libnone.so /usr/lib/libnone.so", "0x303 libfoo.so.1 /usr/lib/libfoo.so.1",
		"0x303 libfoo.so /usr/lib/libfoo.so", "0x303 libc.so.6 /lib/libc.so.6"}
	if got := names(t, b); !slices.Equal(got, want) {
		t.Errorf("cache lists\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNoConfNoCache(t *testing.T) {
	tr := NewTree()
	tr.AddFile("lib/libc.so.6", "glibc", lib("libc.so.6"))
	tr.Symlink("etc/ld.so.conf", "missing", "glibc")
	if b, err := tr.Cache(); b != nil || err != nil {
		t.Errorf("no ld.so.conf (a dangling symlink): got %q, %v", b, err)
	}
}

func TestIncludedDirectoryAndBadPatternSkipped(t *testing.T) {
	tr := glibc()
	tr.Dir("etc/ld.so.conf.d/sub.conf", "x-1-r0") // a match apko cannot read: skipped
	tr.AddFile("etc/ld.so.conf", "glibc-2.40-r1", conf("include [\ninclude /etc/ld.so.conf.d/*.conf\n"))
	b, err := tr.Cache()
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, b); len(got) != 4 {
		t.Errorf("cache lists %v", got)
	}
}

func TestCacheErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Tree)
		want string
	}{
		{"include loop", func(t *Tree) {
			t.AddFile("etc/ld.so.conf.d/a.conf", "foo-1-r0", conf("include etc/ld.so.conf.d/b.conf\n"))
			t.Symlink("etc/ld.so.conf.d/b.conf", "a.conf", "foo-1-r0")
		}, "ld.so.cache: parsing /etc/ld.so.conf: ld.so.conf include loop: /etc/ld.so.conf includes /etc/ld.so.conf.d/a.conf includes /etc/ld.so.conf.d/b.conf, which is /etc/ld.so.conf.d/a.conf (package foo-1-r0) again"},
		{"content not kept", func(t *Tree) {
			t.AddFile("etc/ld.so.conf", "glibc-2.40-r1", conf("include /etc/ldpaths/*\n"))
			t.AddFile("etc/ldpaths/x", "foo-1-r0", File{Size: 9})
		}, "ld.so.cache: parsing /etc/ld.so.conf: /etc/ldpaths/x (package foo-1-r0) is read as an ld.so.conf file, but the package facts hold no content for it"},
		{"ld.so.conf a directory", func(t *Tree) {
			t.put("etc/ld.so.conf", &node{kind: kindDir, children: map[string]*node{}, owner: "bad-1-r0"})
		}, "ld.so.cache: parsing /etc/ld.so.conf: /etc/ld.so.conf (package bad-1-r0) is a directory"},
		{"line too long", func(t *Tree) {
			t.AddFile("etc/ld.so.conf", "glibc-2.40-r1", conf(strings.Repeat("x", 70000)+"\n"))
		}, "ld.so.cache: parsing /etc/ld.so.conf: /etc/ld.so.conf (package glibc-2.40-r1): bufio.Scanner: token too long"},
		{"unknown machine", func(t *Tree) {
			t.AddFile("usr/lib/libx86.so.1", "i386-1-r0", File{Size: 9, Lib: &Lib{Machine: uint16(elf.EM_386), Sonames: []string{"libx86.so.1"}}})
		}, "ld.so.cache: library directory /usr/lib: /usr/lib/libx86.so.1 (package i386-1-r0) is a shared object for EM_386: apko v1.2.39 knows only x86_64 and aarch64 libraries and fails on it too"},
		{"library directory a file", func(t *Tree) {
			t.AddFile("etc/ld.so.conf.d/a.conf", "glibc-2.40-r1", conf("/usr/lib/libc.so\n"))
		}, "ld.so.cache: library directory /usr/lib/libc.so: /usr/lib/libc.so (package glibc-2.40-r1) is not a directory"},
		{"symlink loop", func(t *Tree) {
			t.Symlink("usr/lib64", "lib64", "loop-1-r0")
			t.AddFile("etc/ld.so.conf.d/a.conf", "glibc-2.40-r1", conf("/usr/lib64\n"))
		}, "ld.so.cache: library directory /usr/lib64: /usr/lib64 (package loop-1-r0) -> lib64: maximum symlink depth exceeded (40 symlinks)"},
		{"ELF facts not held", func(t *Tree) {
			t.AddFile("usr/lib/foo-impl", "foo-1-r0", File{Size: 9})
			t.Symlink("usr/lib/libimpl.so.1", "foo-impl", "foo-1-r0")
		}, "ld.so.cache: library directory /usr/lib: /usr/lib/libimpl.so.1 leads to /usr/lib/foo-impl (package foo-1-r0), whose ELF header the package facts do not hold"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := glibc()
			c.mod(tr)
			_, err := tr.Cache()
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestHardlinkToNoFile(t *testing.T) {
	tr := NewTree()
	tr.Dir("usr/lib", "x-1-r0")
	err := tr.Hardlink("usr/lib/libx.so.1", "usr/lib")
	if err == nil || err.Error() != "hard link /usr/lib/libx.so.1: /usr/lib is no regular file" {
		t.Errorf("got %v", err)
	}
}

// Any ld.so.conf content and any symlink give a well-formed cache or an error, never a
// panic or an endless include.
func FuzzCache(f *testing.F) {
	f.Add("/usr/lib\ninclude /etc/ld.so.conf.d/*.conf\n", "include etc/ld.so.conf\n/opt/lib # x\n", "../usr/lib")
	f.Add("include [\ninclude /\ninclude .\n/usr/lib/\n", "", "/etc/ld.so.conf.d")
	f.Fuzz(func(t *testing.T, top, included, link string) {
		tr := glibc()
		tr.AddFile("etc/ld.so.conf", "glibc-2.40-r1", conf(top))
		tr.AddFile("etc/ld.so.conf.d/a.conf", "glibc-2.40-r1", conf(included))
		if link != "" {
			tr.Symlink("usr/lib/liblink.so.1", link, "x-1-r0")
			tr.Symlink("etc/ld.so.conf.d/b.conf", link, "x-1-r0")
		}
		b, err := tr.Cache()
		if err == nil && (len(b) < 64 || len(b)%16 != 0 || !bytes.HasPrefix(b, []byte("glibc-ld.so.cache1.1"))) {
			t.Fatalf("malformed cache %q", b)
		}
	})
}
