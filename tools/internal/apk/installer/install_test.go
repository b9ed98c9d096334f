package installer_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/installer"
)

func installed(t *testing.T, mod func(*apktest.Package)) *installer.Installed {
	t.Helper()
	p := apktest.Sample(mod)
	p.Unsigned = true // the installer reads no signatures
	b, err := apktest.Build(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, rest, err := apkfile.ReadHead(bytes.NewReader(b.APK))
	if err != nil {
		t.Fatal(err)
	}
	d, err := rest.CopyData(nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return &installer.Installed{Info: h.PkgInfo, ControlSHA1: h.ControlSHA1(), APKSize: int64(len(b.APK)), Entries: d.Entries}
}

func TestInstallOwnership(t *testing.T) {
	base := installed(t, func(p *apktest.Package) {
		p.Name, p.Origin = "base", "base"
		p.Files = []apktest.File{{Path: "etc", Dir: true, Mode: 0o775}, {Path: "etc/motd", Content: "a"}, {Path: "etc/keep", Content: "k"}}
	})
	over := installed(t, func(p *apktest.Package) {
		p.Name, p.Origin, p.Replaces = "over", "over", []string{"base"}
		p.Files = []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/motd", Content: "b"}}
	})
	res, err := installer.Install([]*installer.Installed{base, over}, nil)
	if err != nil {
		t.Fatal(err)
	}
	paths := func(es []apkfile.Entry) (out []string) {
		for _, e := range es {
			out = append(out, e.Path)
		}
		return
	}
	if got := strings.Join(paths(res.Owned[0]), ","); got != "etc,etc/keep" {
		t.Errorf("base owns %s", got)
	}
	if got := strings.Join(paths(res.Owned[1]), ","); got != "etc,etc/motd" {
		t.Errorf("over owns %s", got)
	}
	if res.Dirs["etc"].Mode != 0o775 || strings.Join(res.Redeclared, ",") != "etc" {
		t.Errorf("etc: first creator's mode 0775 expected, got %o; redeclared %v", res.Dirs["etc"].Mode, res.Redeclared)
	}
	db := string(installer.InstalledDB([]*installer.Installed{base, over}, res))
	for _, want := range []string{"P:base\n", "F:etc\nM:0:0:0775\nR:keep\nZ:Q1", "P:over\n", "r:base\n", "F:etc\nR:motd\nZ:Q1"} {
		if !strings.Contains(db, want) {
			t.Errorf("installed db lacks %q:\n%s", want, db)
		}
	}

	// Without replaces (and another origin) the same overwrite is a conflict naming both.
	thief := installed(t, func(p *apktest.Package) {
		p.Name, p.Origin = "thief", "thief"
		p.Files = []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/motd", Content: "c"}}
	})
	_, err = installer.Install([]*installer.Installed{base, thief}, nil)
	if err == nil || !strings.Contains(err.Error(), "thief-1.2.3-r4: /etc/motd conflicts with package base-1.2.3-r4") {
		t.Fatalf("conflict: %v", err)
	}
	// Same origin: allowed, as apk allows subpackages of one origin to share files.
	sibling := installed(t, func(p *apktest.Package) {
		p.Name, p.Origin = "base-doc", "base"
		p.Files = []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/motd", Content: "d"}}
	})
	if _, err := installer.Install([]*installer.Installed{base, sibling}, nil); err != nil {
		t.Fatalf("same origin: %v", err)
	}
	// A later package writing through an earlier package's symlink.
	link := installed(t, func(p *apktest.Package) {
		p.Name, p.Origin = "link", "link"
		p.Files = []apktest.File{{Path: "lib", Linkname: "/etc"}}
	})
	through := installed(t, func(p *apktest.Package) {
		p.Name, p.Origin = "through", "through"
		p.Files = []apktest.File{{Path: "lib", Dir: true}, {Path: "lib/x", Content: "x"}}
	})
	_, err = installer.Install([]*installer.Installed{link, through}, nil)
	if err == nil || !strings.Contains(err.Error(), "a symlink of package link-1.2.3-r4") {
		t.Fatalf("through symlink: %v", err)
	}
}
