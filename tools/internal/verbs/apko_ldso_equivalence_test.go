//go:build e2e

package verbs

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
)

// glibcCorpus is a glibc-shaped (Wolfi-like) set of packages: /etc/ld.so.conf with comments,
// a directory listed twice, an include of ld.so.conf.d/*.conf and a line after it (which
// apko ignores); libraries in /lib, /usr/lib (through /usr/lib64 too, a symlink), /opt;
// SONAME symlinks, ".so" development links, a linker script named libc.so, a library without
// a SONAME, an executable named like a library, a hard link, a versioned file whose name is
// no SONAME, numbers that sort numerically (libfoo.so.10 after libfoo.so.9).
func glibcCorpus() []apktest.Package {
	so := func(soname string) string { return string(apktest.ELF{Soname: soname}.Bytes()) }
	dir := func(p string) apktest.File { return apktest.File{Path: p, Dir: true} }
	return []apktest.Package{
		{Name: "glibc", Version: "2.40-r1", Arch: "x86_64", Origin: "glibc", BuildDate: 1700000000, Files: []apktest.File{
			dir("etc"), dir("etc/ld.so.conf.d"), dir("lib"), dir("usr"), dir("usr/lib"),
			{Path: "etc/ld.so.conf", Content: "# libraries\n/usr/local/lib\n/usr/lib64  # through a symlink\n/usr/local/lib\n" +
				"include /etc/ld.so.conf.d/*.conf\n/after/the/include\n"},
			{Path: "etc/ld.so.conf.d/libc.conf", Content: "/usr/lib\n"},
			{Path: "lib/ld-linux-x86-64.so.2", Content: so("ld-linux-x86-64.so.2"), Mode: 0o755},
			{Path: "lib/libc.so.6", Content: so("libc.so.6"), Mode: 0o755},
			{Path: "usr/lib64", Linkname: "lib"},
			{Path: "usr/lib/libc.so", Content: "/* GNU ld script */\nGROUP ( /lib/libc.so.6 )\n"},
			{Path: "usr/lib/libc.so.6", Linkname: "../../lib/libc.so.6"},
			{Path: "usr/lib/libm.so.6", Content: so("libm.so.6"), Mode: 0o755},
			{Path: "usr/lib/libm.so", Linkname: "libm.so.6"},
			{Path: "usr/lib/libpthread.so.0", Content: so("libpthread.so.0"), Mode: 0o755},
			{Path: "usr/lib/libnss_files.so.2", Content: so("libnss_files.so.2"), Mode: 0o755},
		}},
		{Name: "libfoo", Version: "1.2.3-r0", Arch: "x86_64", Origin: "libfoo", BuildDate: 1700000001, Depends: []string{"glibc"}, Files: []apktest.File{
			dir("etc"), dir("etc/ld.so.conf.d"), dir("usr"), dir("usr/lib"), dir("opt"), dir("opt/foo"), dir("opt/foo/lib"),
			{Path: "etc/ld.so.conf.d/foo.conf", Content: "/opt/foo/lib\n/usr/lib/ # again, spelled otherwise\n"},
			{Path: "usr/lib/libfoo.so.1.2.3", Content: so("libfoo.so.1"), Mode: 0o755},
			{Path: "usr/lib/libfoo.so.1", Linkname: "libfoo.so.1.2.3"},
			{Path: "usr/lib/libfoo.so.9", Content: so("libfoo.so.9"), Mode: 0o755},
			{Path: "usr/lib/libfoo.so.10", Content: so("libfoo.so.10"), Mode: 0o755},
			{Path: "usr/lib/libnosoname.so", Content: so(""), Mode: 0o755},
			{Path: "usr/lib/libexec.so.1", Content: string(apktest.ELF{Type: elf.ET_EXEC, Soname: "libexec.so.1"}.Bytes())},
			// The hard link's target sorts first: a tar needs it before the link.
			{Path: "usr/lib/libbar-3.so", Content: so("libbar.so.3"), Mode: 0o755},
			{Path: "usr/lib/libbar.so.3", Linkname: "usr/lib/libbar-3.so", Hardlink: true},
			{Path: "usr/lib/libbad.so.1", Content: "\x7fELF truncated"},
			{Path: "opt/foo/lib/libfoo-plugin.so", Content: so("libfoo-plugin.so"), Mode: 0o755},
			{Path: "opt/foo/lib/ld-foo.so.1", Linkname: "/usr/lib/libfoo.so.9"},
		}},
	}
}

// glibcRepo writes the packages, their signed index and an apko.yaml installing the last one
// into a new directory, and locks it with apko.
func glibcRepo(t *testing.T, apko string, pkgs []apktest.Package) string {
	t.Helper()
	dir := t.TempDir()
	writeRepo(t, dir, "glibc.rsa.pub", "glibc-shaped", pkgs)
	config := "contents:\n  repositories: [./repo]\n  keyring: [./glibc.rsa.pub]\n  packages: [" + pkgs[len(pkgs)-1].Name + "]\narchs: [x86_64]\n"
	os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(config), 0o644)
	if out, err := runApko(apko, dir, "lock", "apko.yaml", "--output", "apko.lock.json"); err != nil {
		t.Fatalf("apko lock: %v\n%s", err, out)
	}
	return dir
}

// runApko runs apko in dir with SOURCE_DATE_EPOCH=0; build writes dir/image.tar.
func runApko(apko, dir string, args ...string) ([]byte, error) {
	if args[0] == "build" {
		args = append(args, "--offline", "--sbom=false", "--arch", "x86_64", "--cache-dir", filepath.Join(dir, "cache"),
			"--lockfile", "apko.lock.json", "apko.yaml", "glibc:apko", filepath.Join(dir, "image.tar"))
	}
	cmd := exec.Command(apko, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
	return cmd.CombinedOutput()
}

// TestApkoEquivalenceLdsoCache builds the glibc-shaped corpus with apko v1.2.39 and with
// our verbs: the rootfs must be equal, /etc/ld.so.cache byte for byte.
func TestApkoEquivalenceLdsoCache(t *testing.T) {
	apko := apkooracle.Binary(t)
	dir := glibcRepo(t, apko, glibcCorpus())
	if out, err := runApko(apko, dir, "build"); err != nil {
		t.Fatalf("apko build: %v\n%s", err, out)
	}
	layoutDir := filepath.Join(dir, "layout")
	apkooracle.Untar(t, filepath.Join(dir, "image.tar"), layoutDir)
	apkoFS, apkoCfg := readLayout(t, layoutDir)
	fs, cfg := buildOurs(t, dir, filepath.Join(dir, "apko.lock.json"), filepath.Join(dir, "apko.yaml"), "./repo", nil)
	want, ok := apkoFS["etc/ld.so.cache"]
	if !ok {
		t.Fatal("apko's image has no /etc/ld.so.cache: the corpus no longer makes one")
	}
	got := fs["etc/ld.so.cache"]
	if got.data != want.data {
		t.Errorf("/etc/ld.so.cache differs:\n--- apko\n%s--- rules_wharf\n%s", cacheText(want.data), cacheText(got.data))
	}
	listing := cacheText(want.data)
	for _, s := range []string{"/lib/libc.so.6", "/usr/lib64/libm.so", "/usr/lib/libbar.so.3", "/usr/lib/libnosoname.so", "/opt/foo/lib/libfoo-plugin.so"} {
		if !strings.Contains(listing, s+"\n") {
			t.Errorf("apko's cache has no %s: the corpus no longer exercises it\n%s", s, listing)
		}
	}
	t.Logf("apko v1.2.39's /etc/ld.so.cache (%d bytes):\n%s", len(want.data), listing)
	compare(t, "the image apko v1.2.39 builds from the glibc-shaped corpus", apkoFS, apkoCfg, fs, cfg)
}

// Where apko v1.2.39 fails to build the cache, the database action fails too, naming the
// package: a 32-bit x86 library in a library directory, an /etc/ld.so.conf that is a
// directory.
func TestApkoEquivalenceLdsoCacheFailures(t *testing.T) {
	apko := apkooracle.Binary(t)
	for _, c := range []struct {
		name       string
		files      []apktest.File
		apko, ours string
	}{
		{"i386 library", []apktest.File{{Path: "usr/lib/libold.so.1", Content: string(apktest.ELF{Class: elf.ELFCLASS32, Machine: elf.EM_386, Soname: "libold.so.1"}.Bytes())}},
			"unknown machine type EM_386", "ld.so.cache: library directory /usr/lib: /usr/lib/libold.so.1 (package extra-1-r0) is a shared object for EM_386"},
		{"ld.so.conf a directory", []apktest.File{{Path: "etc/ld.so.conf", Dir: true}},
			"parsing /etc/ld.so.conf", "ld.so.cache: parsing /etc/ld.so.conf: /etc/ld.so.conf (package extra-1-r0) is a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pkgs := glibcCorpus()[:1]
			pkgs[0].Files = slices.DeleteFunc(pkgs[0].Files, func(f apktest.File) bool { return strings.HasPrefix(f.Path, "etc/ld.so.conf") })
			if c.name == "i386 library" {
				pkgs[0].Files = append(pkgs[0].Files, apktest.File{Path: "etc/ld.so.conf", Content: "/usr/lib\n"})
			}
			pkgs = append(pkgs, apktest.Package{Name: "extra", Version: "1-r0", Arch: "x86_64", Origin: "extra", Depends: []string{"glibc"},
				Files: append([]apktest.File{{Path: "etc", Dir: true}, {Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true}}, c.files...)})
			dir := glibcRepo(t, apko, pkgs)
			out, err := runApko(apko, dir, "build")
			if err == nil || !strings.Contains(string(out), c.apko) {
				t.Errorf("apko build: %v, want a failure with %q\n%s", err, c.apko, out)
			}
			err = ourDatabase(t, dir)
			if err == nil || !strings.HasPrefix(err.Error(), c.ours) {
				t.Errorf("apk-installdb: %v\nwant %s", err, c.ours)
			}
			t.Logf("apko: %s\nrules_wharf: %v", lastLine(out, c.apko), err)
		})
	}
}

// ourDatabase runs apk-extract on the lock's packages and apk-installdb on their facts.
func ourDatabase(t *testing.T, dir string) error {
	t.Helper()
	lock := readLock(t, filepath.Join(dir, "apko.lock.json"))
	work := t.TempDir()
	args := []string{"--arch", "x86_64", "--blob", filepath.Join(work, "db.blob"), "--metadata", filepath.Join(work, "db.meta")}
	for i, p := range lock.Contents.Packages {
		o := func(s string) string { return filepath.Join(work, fmt.Sprintf("%d.%s", i, s)) }
		if err := apkExtract([]string{"--name", p.Name, "--version", p.Version, "--arch", p.Architecture,
			"--part", filepath.Join(dir, p.URL), "--control-checksum", p.Control.Checksum, "--data-checksum", p.Data.Checksum,
			"--blob", o("blob"), "--metadata", o("meta"), "--facts", o("facts")}); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--package", o("facts"))
	}
	return installdbVerb(args, io.Discard)
}

// lastLine is the line of out that holds s.
func lastLine(out []byte, s string) string {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// cacheText lists a cache's entries (flags, key, path), one a line, for messages.
func cacheText(b string) string {
	if len(b) < 48 || !strings.HasPrefix(b, "glibc-ld.so.cache1.1") {
		return fmt.Sprintf("not a cache: %q\n", b)
	}
	str := func(off uint32) string {
		if int(off) >= len(b) {
			return "?"
		}
		s, _, _ := strings.Cut(b[off:], "\x00")
		return s
	}
	n := binary.LittleEndian.Uint32([]byte(b[20:24]))
	var out bytes.Buffer
	for i := 0; i < int(n) && 48+24*(i+1) <= len(b); i++ {
		e := []byte(b[48+24*i:])
		le := binary.LittleEndian
		fmt.Fprintf(&out, "%#06x %-24s %s\n", le.Uint32(e), str(le.Uint32(e[4:])), str(le.Uint32(e[8:])))
	}
	fmt.Fprintf(&out, "(%d entries, %d bytes)\n", n, len(b))
	return out.String()
}
