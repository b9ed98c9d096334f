package apkfile_test

import (
	"debug/elf"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

// factsOf extracts p as apk-extract does and reads its facts back from a facts file.
func factsOf(t *testing.T, p apktest.Package) *apkfile.Facts {
	t.Helper()
	f, err := apktest.Facts(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "facts.json")
	if err := os.WriteFile(path, f.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := apkfile.ReadFacts(path)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// apk-extract records the ELF facts of files named like libraries (large ones spooled to
// disk, a SONAME that is not UTF-8 in base64, a linker script and an executable as not
// shared) and the content of ld.so.conf files, by their index in the files.
func TestLdsoFacts(t *testing.T) {
	big := apktest.ELF{Soname: "libbig.so.1"}.Bytes()
	big = append(big, make([]byte, 9<<20)...)
	f := factsOf(t, apktest.Sample(func(p *apktest.Package) {
		p.Files = []apktest.File{
			{Path: "etc", Dir: true}, {Path: "etc/ld.so.conf.d", Dir: true}, {Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true},
			{Path: "etc/ld.so.conf", Content: "include /etc/ld.so.conf.d/*.conf\n"},
			{Path: "etc/ld.so.conf.d/big.conf", Content: strings.Repeat("#", 1<<20+1)},
			{Path: "etc/motd", Content: "not kept\n"},
			{Path: "usr/lib/libbig.so.1", Content: string(big)},
			// Spooled into the same temporary file, shorter: only its own bytes are read.
			{Path: "usr/lib/libbig2.so.1", Content: string(apktest.ELF{Soname: "libbig2.so.1"}.Bytes()) + strings.Repeat("\x00", 8<<20+5)},
			{Path: "usr/lib/libc.so", Content: "/* GNU ld script */\n"},
			{Path: "usr/lib/libexe.so.1", Content: string(apktest.ELF{Type: elf.ET_EXEC}.Bytes())},
			{Path: "usr/lib/libodd.so.1", Content: string(apktest.ELF{Machine: elf.EM_AARCH64, Soname: "libodd\xff.so.1"}.Bytes())},
			{Path: "usr/lib/libodd.so", Linkname: "libodd.so.1"},
		}
	}))
	at := func(i int) string { return f.Files[i].Path }
	var got []string
	for _, l := range f.Ldso.Libs {
		got = append(got, at(l.File)+" "+elf.Machine(l.Machine).String()+" "+strings.Join(l.Names(), ",")+" "+l.NotShared)
	}
	want := []string{
		"usr/lib/libbig.so.1 EM_X86_64 libbig.so.1 ",
		"usr/lib/libbig2.so.1 EM_X86_64 libbig2.so.1 ",
		"usr/lib/libc.so EM_NONE  bad magic number '[47 42 32 71]' in record at byte 0x0",
		"usr/lib/libexe.so.1 EM_NONE  not a dynamic object",
		"usr/lib/libodd.so.1 EM_AARCH64 libodd\xff.so.1 ",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("libraries:\n%q\nwant\n%q", got, want)
	}
	if len(f.Ldso.Conf) != 1 || at(f.Ldso.Conf[0].File) != "etc/ld.so.conf" || string(f.Ldso.Conf[0].Content) != "include /etc/ld.so.conf.d/*.conf\n" {
		t.Errorf("conf files: %+v (the one over 1 MiB is not kept)", f.Ldso.Conf)
	}
}

// Facts written before the ld.so facts existed read with Ldso nil; new facts always have it.
func TestLdsoFactsOldAndEmpty(t *testing.T) {
	p := filepath.Join(t.TempDir(), "old.json")
	os.WriteFile(p, []byte(`{"pkginfo":{"name":"x","version":"1-r0"},"files":[{"path":"x","type":"file"}]}`), 0o644)
	old, err := apkfile.ReadFacts(p)
	if err != nil || old.Ldso != nil {
		t.Fatalf("old facts: %+v, %v", old, err)
	}
	if f := factsOf(t, apktest.Sample(nil)); f.Ldso == nil || len(f.Ldso.Libs)+len(f.Ldso.Conf) != 0 {
		t.Errorf("a package without libraries: ldso %+v, want {}", f.Ldso)
	}
}

// A large library is spooled to a temporary file; when none can be made, the extraction
// fails naming the library.
func TestLdsoSpoolError(t *testing.T) {
	big := append(apktest.ELF{Soname: "libbig.so.1"}.Bytes(), make([]byte, 9<<20)...)
	p := apktest.Sample(func(p *apktest.Package) {
		p.Files = []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true}, {Path: "usr/lib/libbig.so.1", Content: string(big)}}
	})
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	_, err := apktest.Facts(p)
	if err == nil || !strings.HasPrefix(err.Error(), "data member: usr/lib/libbig.so.1: spooling a library: ") {
		t.Fatalf("got %v, want the library named", err)
	}
	t.Log(err)
}
