package verbs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/sbom"
)

// unsignedFixture is a Wolfi-shaped package: no signature member; the lock pins it.
func unsignedFixture(t *testing.T, name string, files ...apktest.File) (string, *apktest.Built) {
	t.Helper()
	b, err := apktest.Build(apktest.Package{Name: name, Version: "1.0-r0", Arch: "x86_64", Unsigned: true, Files: files}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name+".apk")
	if err := os.WriteFile(p, b.APK, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func verifyArgs(name, apkPath string, b *apktest.Built, out string, extra ...string) []string {
	args := []string{"--name", name, "--version", "1.0-r0", "--arch", "x86_64", "--part", apkPath, "--out", out}
	if b != nil {
		args = append(args, "--control-checksum", apktest.SRI("sha1", b.ControlSHA1), "--data-checksum", apktest.SRI("sha256", b.DataSHA256))
	}
	return append(args, extra...)
}

func TestVerifyUnsignedTrustedThroughLock(t *testing.T) {
	p, b := unsignedFixture(t, "wolfi-base", apktest.File{Path: "etc/wolfi", Content: "x"})
	out := filepath.Join(t.TempDir(), "verified.json")
	if err := apkVerify(verifyArgs("wolfi-base", p, b, out)); err != nil {
		t.Fatal(err)
	}
	var recs []apkfile.VerifyRecord
	raw, _ := os.ReadFile(out)
	if err := json.Unmarshal(raw, &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Trust != apkfile.TrustLock || recs[0].SignedBy != "" || recs[0].DataHash == "" {
		t.Fatalf("record %s: want trust %q, no signer, the datahash", raw, apkfile.TrustLock)
	}

	// A signed package records its signer.
	f := newFixture(t)
	if err := apkVerify([]string{"--name", "pkg", "--version", "1.0-r0", "--arch", "x86_64", "--part", f.apk, "--key", f.key, "--out", out}); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(out)
	json.Unmarshal(raw, &recs)
	if recs[0].Trust != apkfile.TrustSignature || recs[0].SignedBy != "k.rsa.pub" {
		t.Fatalf("signed package record %s", raw)
	}
}

// Each way the chain from the lock to an unsigned package can be broken, with the message.
func TestVerifyUnsignedErrors(t *testing.T) {
	p, b := unsignedFixture(t, "glibc", apktest.File{Path: "lib/libc.so.6", Content: "elf"})
	other := *b
	other.DataSHA256 = make([]byte, 32)
	otherCtl := *b
	otherCtl.ControlSHA1 = make([]byte, 20)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no lock checksums", verifyArgs("glibc", p, nil, ""),
			"package glibc-1.0-r0 (x86_64): not signed, and the lock has no control checksum for it: nothing vouches for it (lock //wolfi:apko.lock.json)"},
		{"no lock data checksum", append(verifyArgs("glibc", p, nil, ""), "--control-checksum", apktest.SRI("sha1", b.ControlSHA1)),
			"package glibc-1.0-r0 (x86_64): not signed, and the lock has no data checksum for it: nothing but the control member pins its data"},
		{"lock data checksum is not the datahash", verifyArgs("glibc", p, &other, ""),
			"package glibc-1.0-r0 (x86_64): not signed, and its .PKGINFO datahash"},
		{"control member is not the lock's", verifyArgs("glibc", p, &otherCtl, ""),
			"package glibc-1.0-r0 (x86_64): control member checksum mismatch: lock has sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{"require_signatures", verifyArgs("glibc", p, b, "", "--require-signatures"),
			"require_signatures is set (lock //wolfi:apko.lock.json), but 1 of 1 packages are not signed: glibc-1.0-r0 (x86_64)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "verified.json")
			args := append(replace(c.args, "", out), "--lock", "//wolfi:apko.lock.json")
			err := apkVerify(args)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant %q", err, c.want)
			}
			t.Logf("a user reads: %v", err)
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Error("output left behind")
			}
		})
	}
}

// require_signatures names every unsigned package at once, not just the first.
func TestVerifyRequireSignaturesNamesEach(t *testing.T) {
	f := newFixture(t)
	p1, b1 := unsignedFixture(t, "a")
	p2, b2 := unsignedFixture(t, "b")
	list := []apkfile.Locked{
		{Name: "a", Version: "1.0-r0", Arch: "x86_64", Parts: []string{p1}, ControlChecksum: apktest.SRI("sha1", b1.ControlSHA1), DataChecksum: apktest.SRI("sha256", b1.DataSHA256)},
		{Name: "pkg", Version: "1.0-r0", Arch: "x86_64", Parts: []string{f.apk}},
		{Name: "b", Version: "1.0-r0", Arch: "x86_64", Parts: []string{p2}, ControlChecksum: apktest.SRI("sha1", b2.ControlSHA1), DataChecksum: apktest.SRI("sha256", b2.DataSHA256)},
	}
	dir := t.TempDir()
	reqs := filepath.Join(dir, "verify.json")
	raw, _ := json.Marshal(list)
	os.WriteFile(reqs, raw, 0o644)
	out := filepath.Join(dir, "verified.json")
	err := apkVerify([]string{"--packages", reqs, "--key", f.key, "--out", out, "--require-signatures"})
	want := "require_signatures is set, but 2 of 3 packages are not signed: a-1.0-r0 (x86_64), b-1.0-r0 (x86_64)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if err := apkVerify([]string{"--packages", reqs, "--key", f.key, "--out", out}); err != nil {
		t.Fatalf("without --require-signatures: %v", err)
	}
}

// apk-extract keeps the os-release files' content in the facts (the SBOM's distro), and only
// theirs.
func TestExtractKeepsOSRelease(t *testing.T) {
	p, b := unsignedFixture(t, "wolfi-baselayout",
		apktest.File{Path: "etc", Dir: true}, apktest.File{Path: "etc/os-release", Content: "ID=wolfi\n"},
		apktest.File{Path: "usr/share/doc/not-os-release", Content: "x"},
		apktest.File{Path: "usr/lib/os-release", Linkname: "../../etc/os-release"})
	out := t.TempDir()
	err := apkExtract([]string{"--name", "wolfi-baselayout", "--version", "1.0-r0", "--arch", "x86_64", "--part", p,
		"--control-checksum", apktest.SRI("sha1", b.ControlSHA1), "--blob", filepath.Join(out, "blob"),
		"--metadata", filepath.Join(out, "meta.json"), "--facts", filepath.Join(out, "facts.json")})
	if err != nil {
		t.Fatal(err)
	}
	f, err := apkfile.ReadFacts(filepath.Join(out, "facts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.OSRelease) != 1 || f.OSRelease["etc/os-release"] != "ID=wolfi\n" {
		t.Fatalf("os_release in facts: %q", f.OSRelease)
	}
	if _, got, _ := sbom.FromFacts(f, ""); len(got) != 2 || got["usr/lib/os-release"].Type != "symlink" {
		t.Fatalf("os-release entries: %+v", got)
	}
}
