// Command devrepo writes the repository the dev-variant end-to-end test (e2e/dev_test.go)
// locks and builds from: a signed x86_64 repository whose busybox and apk-tools carry a
// static multi-call program (-box, built by the test: a shell running `sh -c`, echo, cat,
// ls, `apk info`) the way busybox-static does, so a `-dev` image runs a shell under runc.
//
//	devrepo -dir DIR -box PROGRAM
//
// writes DIR/x86_64/*.apk, DIR/x86_64/APKINDEX.tar.gz and DIR/keys/dev.rsa.pub.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

const arch = "x86_64"

func main() {
	dir := flag.String("dir", "", "output directory")
	box := flag.String("box", "", "the static multi-call program busybox and apk-tools install")
	flag.Parse()
	if err := run(*dir, *box); err != nil {
		fmt.Fprintln(os.Stderr, "devrepo:", err)
		os.Exit(1)
	}
}

func run(dir, boxPath string) error {
	if dir == "" || boxPath == "" {
		return fmt.Errorf("-dir and -box are required")
	}
	box, err := os.ReadFile(boxPath)
	if err != nil {
		return err
	}
	key, err := apktest.NewKey("dev.rsa.pub")
	if err != nil {
		return err
	}
	var built []*apktest.Built
	for _, p := range packages(string(box)) {
		p.Arch = arch
		b, err := apktest.Build(p, key)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		built = append(built, b)
		if err := write(filepath.Join(dir, arch, p.Name+"-"+p.Version+".apk"), b.APK); err != nil {
			return err
		}
	}
	idx, err := apktest.Index(built, key, "dev-variant test repository")
	if err != nil {
		return err
	}
	if err := write(filepath.Join(dir, arch, "APKINDEX.tar.gz"), idx); err != nil {
		return err
	}
	return write(filepath.Join(dir, "keys", key.Name), key.PublicPEM())
}

// packages: a base layout and the application (the production image), busybox and
// apk-tools (the -dev variant's defaults; the shell is busybox's cmd:sh, as on Wolfi), and
// curl, which nothing installs (for search).
func packages(box string) []apktest.Package {
	dirs := func(ps ...string) []apktest.File {
		var fs []apktest.File
		for _, p := range ps {
			fs = append(fs, apktest.File{Path: p, Dir: true})
		}
		return fs
	}
	busybox := append(dirs("bin"), apktest.File{Path: "bin/busybox", Content: box, Mode: 0o755})
	provides := []string{"cmd:busybox=1.37.0-r0"}
	for _, applet := range []string{"sh", "echo", "cat", "ls"} {
		busybox = append(busybox, apktest.File{Path: "bin/" + applet, Linkname: "busybox"})
		provides = append(provides, "cmd:"+applet+"=1.37.0-r0")
	}
	return []apktest.Package{
		{Name: "dev-baselayout", Version: "1.0.0-r0", Origin: "dev-baselayout", License: "MIT", Files: append(dirs("etc", "tmp"),
			apktest.File{Path: "etc/os-release", Content: "ID=devtest\nNAME=\"dev variant test\"\n"})},
		{Name: "app", Version: "1.0.0-r0", Origin: "app", License: "MIT", Depends: []string{"dev-baselayout"}, Provides: []string{"cmd:app=1.0.0-r0"},
			Files: append(dirs("usr", "usr/bin"), apktest.File{Path: "usr/bin/app", Content: box, Mode: 0o755})},
		{Name: "busybox", Version: "1.37.0-r0", Origin: "busybox", License: "GPL-2.0-only", Provides: provides, ProviderPriority: 100, Files: busybox},
		{Name: "apk-tools", Version: "2.14.6-r0", Origin: "apk-tools", License: "GPL-2.0-only", Provides: []string{"cmd:apk=2.14.6-r0"},
			Files: append(dirs("sbin"), apktest.File{Path: "sbin/apk", Content: box, Mode: 0o755})},
		{Name: "curl", Version: "8.11.1-r0", Origin: "curl", License: "curl", Provides: []string{"cmd:curl=8.11.1-r0"},
			Files: append(dirs("usr", "usr/bin"), apktest.File{Path: "usr/bin/curl", Content: box, Mode: 0o755})},
	}
}

func write(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}
