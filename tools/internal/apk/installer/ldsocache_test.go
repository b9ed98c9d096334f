package installer_test

import (
	"bytes"
	"debug/elf"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/installer"
)

// fromFacts is p as the database action sees it: through apk-extract's facts.
func fromFacts(t *testing.T, p apktest.Package) *installer.Installed {
	t.Helper()
	f, err := apktest.Facts(p)
	if err != nil {
		t.Fatal(err)
	}
	in, err := installer.FromFacts(f)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func glibcPackages(t *testing.T, machine elf.Machine) []*installer.Installed {
	so := func(s string) string { return string(apktest.ELF{Machine: machine, Soname: s}.Bytes()) }
	return []*installer.Installed{
		fromFacts(t, apktest.Package{Name: "glibc", Version: "2.40-r1", Arch: "x86_64", Files: []apktest.File{
			{Path: "etc", Dir: true}, {Path: "lib", Dir: true},
			{Path: "etc/ld.so.conf", Content: "/usr/lib\n"},
			{Path: "lib/libc.so.6", Content: so("libc.so.6")},
		}}),
		fromFacts(t, apktest.Package{Name: "zlib", Version: "1.3-r0", Arch: "x86_64", Files: []apktest.File{
			{Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true},
			{Path: "usr/lib/libz.so.1.3", Content: so("libz.so.1")},
			{Path: "usr/lib/libz.so.1", Linkname: "libz.so.1.3"},
		}}),
	}
}

// The database layer holds /etc/ld.so.cache (0644, root) when a package ships /etc/ld.so.conf,
// listing the libraries of every package.
func TestDatabaseLayerLdsoCache(t *testing.T) {
	pkgs := glibcPackages(t, elf.EM_X86_64)
	entries, err := installer.DatabaseLayer(pkgs, "x86_64", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cache []byte
	for _, e := range entries {
		if e.Path == "etc/ld.so.cache" {
			if e.Mode != 0o644 || e.UID != 0 || e.GID != 0 {
				t.Errorf("mode %o owner %d:%d", e.Mode, e.UID, e.GID)
			}
			cache = e.Data
		}
	}
	for _, s := range []string{"glibc-ld.so.cache1.1", "/usr/lib/libz.so.1\x00", "/lib/libc.so.6\x00"} {
		if !bytes.Contains(cache, []byte(s)) {
			t.Errorf("cache %q has no %q", cache, s)
		}
	}
	entries, err = installer.DatabaseLayer(pkgs[1:], "x86_64", nil, nil)
	for _, e := range entries {
		if e.Path == "etc/ld.so.cache" || err != nil {
			t.Errorf("without /etc/ld.so.conf: %v, %v", e.Path, err)
		}
	}
}

// The cache's errors name the package; facts from before the ld.so facts are refused.
func TestLdsoCacheErrors(t *testing.T) {
	_, err := installer.LdsoCache(glibcPackages(t, elf.EM_386))
	want := "ld.so.cache: library directory /lib: /lib/libc.so.6 (package glibc-2.40-r1) is a shared object for EM_386"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	pkgs := glibcPackages(t, elf.EM_X86_64)
	pkgs[1].Ldso = nil
	_, err = installer.LdsoCache(pkgs)
	want = "ld.so.cache: the facts of package zlib-1.3-r0 were written by a wharf apk-extract that recorded no ld.so facts: extract it again with this wharf"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	bad := &installer.Installed{Info: &apkfile.PkgInfo{Name: "h", Version: "1-r0"}, Ldso: &apkfile.Ldso{},
		Entries: []apkfile.Entry{{Path: "x", Type: "hardlink", Linkname: "missing"}}}
	_, err = installer.LdsoCache([]*installer.Installed{bad})
	want = "package h-1-r0: hard link /x: /missing is no regular file"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
