package apkfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

// head writes a package's head (signature and control members) as a ranged download
// gives it, and returns the lock's view of the package with that part.
func head(t *testing.T, b *apktest.Built) apkfile.Locked {
	t.Helper()
	p := filepath.Join(t.TempDir(), b.Name+".head")
	if err := os.WriteFile(p, b.APK[:b.SigSize+b.ControlSize], 0o644); err != nil {
		t.Fatal(err)
	}
	return apkfile.Locked{Name: b.Name, Version: b.Version, Arch: b.Arch, Parts: []string{p},
		ControlChecksum: apktest.SRI("sha1", b.ControlSHA1), DataChecksum: apktest.SRI("sha256", b.DataSHA256)}
}

// A second check of the same packages is answered from the cache; anything the check
// reads that differs (the keyring, the bytes, the lock's checksums) is checked again,
// failures are never remembered, and require_signatures still applies to remembered ones.
func TestVerifyCache(t *testing.T) {
	signed := head(t, build(t, nil))
	unsigned := head(t, build(t, func(p *apktest.Package) { p.Name, p.Unsigned = "plain", true }))
	cache := apkfile.NewVerifyCache(10)
	pkgs := []apkfile.Locked{signed, unsigned}
	first, err := apkfile.VerifyAll(ring(testKey), pkgs, false, "//:lock", cache)
	if err != nil || cache.Hits() != 0 {
		t.Fatalf("first check: %v, %d hits", err, cache.Hits())
	}
	again, err := apkfile.VerifyAll(ring(testKey), pkgs, false, "//:lock", cache)
	if err != nil || cache.Hits() != 2 || len(again) != 2 || again[0] != first[0] || again[1] != first[1] {
		t.Fatalf("second check: %v, %d hits, records %+v, first %+v", err, cache.Hits(), again, first)
	}

	// Another keyring: checked again, and the signature no longer verifies.
	if _, err := apkfile.VerifyAll(ring(otherKey), []apkfile.Locked{signed}, false, "//:lock", cache); err == nil || cache.Hits() != 2 {
		t.Fatalf("other keyring: %v, %d hits", err, cache.Hits())
	}
	// require_signatures on a remembered unsigned package.
	_, err = apkfile.VerifyAll(ring(testKey), pkgs, true, "//:lock", cache)
	if want := "require_signatures is set (lock //:lock), but 1 of 2 packages are not signed: plain-1.2.3-r4 (x86_64)"; err == nil || err.Error() != want {
		t.Fatalf("require_signatures: %v, want %q", err, want)
	}
	// Other bytes in the same file: checked again, and they fail.
	b, _ := os.ReadFile(signed.Parts[0])
	tampered := bytes.Clone(b)
	tampered[len(tampered)-1] ^= 1
	os.WriteFile(signed.Parts[0], tampered, 0o644)
	hits := cache.Hits()
	if _, err := apkfile.VerifyAll(ring(testKey), []apkfile.Locked{signed}, false, "", cache); err == nil || cache.Hits() != hits {
		t.Fatalf("tampered head: %v, hits %d -> %d", err, hits, cache.Hits())
	}
	// A failure is not remembered: the same tampered bytes fail again.
	if _, err := apkfile.VerifyAll(ring(testKey), []apkfile.Locked{signed}, false, "", cache); err == nil {
		t.Fatal("tampered head passed the second time")
	}
	os.WriteFile(signed.Parts[0], b, 0o644)
	// The lock's checksum is part of what is checked.
	other := signed
	other.ControlChecksum = apktest.SRI("sha1", bytes.Repeat([]byte{1}, 20))
	if _, err := apkfile.VerifyAll(ring(testKey), []apkfile.Locked{other}, false, "", cache); err == nil || !strings.Contains(err.Error(), "control member checksum mismatch") {
		t.Fatalf("other lock checksum: %v", err)
	}
}

// A package given as one large part (a whole .apk) is checked every time: hashing it
// would cost more than the check.
func TestVerifyCacheSkipsLargeParts(t *testing.T) {
	noise := make([]byte, 300<<10) // incompressible, so the .apk is large too
	for i, x := 0, uint32(1); i < len(noise); i++ {
		x = x*1664525 + 1013904223
		noise[i] = byte(x >> 24)
	}
	b := build(t, func(p *apktest.Package) {
		p.Files = append(p.Files, apktest.File{Path: "usr/share/big", Content: string(noise)})
	})
	whole := filepath.Join(t.TempDir(), "hello.apk")
	if err := os.WriteFile(whole, b.APK, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(b.APK) <= 256<<10 {
		t.Fatalf("the package is %d bytes, not large", len(b.APK))
	}
	cache := apkfile.NewVerifyCache(10)
	pkgs := []apkfile.Locked{{Name: b.Name, Version: b.Version, Arch: b.Arch, Parts: []string{whole}}}
	for range 2 {
		if _, err := apkfile.VerifyAll(ring(testKey), pkgs, false, "", cache); err != nil {
			t.Fatal(err)
		}
	}
	if cache.Hits() != 0 {
		t.Fatalf("%d hits for a whole .apk", cache.Hits())
	}
}
