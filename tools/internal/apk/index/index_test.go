package index_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
)

// ring is a keyring of k alone.
func ring(t *testing.T, k *apktest.Key) apkfile.Keyring {
	t.Helper()
	r := apkfile.Keyring{}
	if err := r.AddPEM(k.Name, k.PublicPEM()); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIndexRoundTripAndVerify(t *testing.T) {
	testKey, err := apktest.NewKey("test.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := apktest.NewKey("test.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	a, err := apktest.Build(apktest.Sample(nil), testKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := apktest.Build(apktest.Sample(func(p *apktest.Package) { p.Name, p.Version, p.Depends = "other", "2.0-r0", []string{"hello>=1.2"} }), testKey)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := apktest.Index([]*apktest.Built{a, b}, testKey, "test repo")
	if err != nil {
		t.Fatal(err)
	}
	idx, err := index.ParseIndex(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if idx.Description != "test repo" || len(idx.Entries) != 2 {
		t.Fatalf("%q %d", idx.Description, len(idx.Entries))
	}
	e := idx.Entries[1]
	if e.Name != "other" || e.Version != "2.0-r0" || e.Size != int64(len(b.APK)) || strings.Join(e.Depends, " ") != "hello>=1.2" ||
		e.Checksum != apktest.Q1(b.ControlSHA1) {
		t.Fatalf("entry %+v", e)
	}
	if signer, err := idx.Verify(ring(t, testKey)); err != nil || signer != "test.rsa.pub" {
		t.Fatalf("verify: %q %v", signer, err)
	}
	if _, err := idx.Verify(ring(t, otherKey)); err == nil {
		t.Fatal("verified with the wrong key")
	}
	// Tampering with the index member breaks the signature.
	bad := append([]byte(nil), raw...)
	bad[len(bad)-12] ^= 1
	if idx, err := index.ParseIndex(bytes.NewReader(bad)); err == nil {
		if _, err := idx.Verify(ring(t, testKey)); err == nil {
			t.Fatal("tampered index verified")
		}
	}
	for _, text := range []string{"P:a\nV:1\nS:x\n", "P:a\n\n", "garbage\n"} {
		if _, err := index.ParseIndexText([]byte(text)); err == nil {
			t.Errorf("%q parsed", text)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	ordered := []string{
		"0.9", "1.0_alpha", "1.0_alpha2", "1.0_beta", "1.0_pre1", "1.0_rc1", "1.0_rc2", "1.0",
		"1.0-r1", "1.0-r2", "1.0-r10", "1.0_p1", "1.0a", "1.0a-r4", "1.0b", "1.0.1", "1.01.1", "1.1", "1.9", "1.10", "2",
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := index.CompareVersions(ordered[i], ordered[j]); got != want {
				t.Errorf("CompareVersions(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	// apk-tools 3 orders a commit hash as a string, above the revision of the same version.
	if index.CompareVersions("1.2.3~abc123-r0", "1.2.3-r1") != 1 || index.CompareVersions("1.2.3~abc", "1.2.3~abd") != -1 {
		t.Error("a commit hash should order versions as apk-tools 3 does")
	}
	for _, bad := range []string{"", "a1", "1.", "1.0_foo", "1.0-r", "1.0 ", "1.0a2", "1.0~"} {
		if index.ValidVersion(bad) {
			t.Errorf("%q is valid", bad)
		}
	}
}
