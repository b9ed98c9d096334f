//go:build e2e

package index_test

// Real repository indexes shipped in chainguard.dev/apko v1.2.39's module (read through the
// Go module cache): an Alpine 3.16 index, an RSA-SHA256-signed one, one with three signatures.
//
//	go test -tags e2e -run RealIndexes ./tools/internal/apk/index/

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
)

func TestRealIndexes(t *testing.T) {
	modDir := apkooracle.ModuleDir(t)
	td := filepath.Join(modDir, "pkg", "apk", "apk", "testdata")
	keys := func(paths ...string) apkfile.Keyring {
		r := apkfile.Keyring{}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.AddPEM(p, b); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	allKeys, _ := filepath.Glob(filepath.Join(td, "signing", "keys", "*.pub"))
	for _, c := range []struct {
		index   string
		ring    apkfile.Keyring
		min     int
		sigs    int
		wantSig string
	}{
		{"rsa256-signed/APKINDEX.tar.gz", keys(filepath.Join(td, "rsa256-signed", "test-rsa256.rsa.pub")), 1, 1, "sha256"},
		{"signing/APKINDEX.tar.gz", keys(allKeys...), 1, 3, ""},
		{"alpine-316/APKINDEX.tar.gz", nil, 4000, 1, "sha1"},
	} {
		f, err := os.Open(filepath.Join(td, c.index))
		if err != nil {
			t.Fatal(err)
		}
		idx, err := index.ParseIndex(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.index, err)
		}
		if len(idx.Entries) < c.min || len(idx.Signatures) != c.sigs || (c.wantSig != "" && idx.Signatures[0].Hash != c.wantSig) {
			t.Fatalf("%s: %d entries, %d signatures (%+v)", c.index, len(idx.Entries), len(idx.Signatures), idx.Signatures)
		}
		if c.ring != nil {
			if signer, err := idx.Verify(c.ring); err != nil {
				t.Fatalf("%s: %v", c.index, err)
			} else {
				t.Logf("%s: %d entries, signed by %s", c.index, len(idx.Entries), signer)
			}
		}
		// Sorting every real version is consistent. Alpine 3.16 carries apk-tools 2 versions
		// with digits after the letter (6.8.0p2-r4), which apk-tools 3 and apko call invalid
		// (apko fails to resolve a dependency on one); they are counted, and order by their
		// valid leading part as apk-tools 3 orders them.
		var versions []string
		invalid := 0
		for _, e := range idx.Entries {
			if !index.ValidVersion(e.Version) {
				invalid++
				t.Logf("%s: %s has version %q, which apk-tools 3 calls invalid", c.index, e.Name, e.Version)
			}
			versions = append(versions, e.Version)
		}
		if invalid*100 > len(idx.Entries) {
			t.Errorf("%s: %d of %d versions are invalid", c.index, invalid, len(idx.Entries))
		}
		sort.Slice(versions, func(i, j int) bool { return index.CompareVersions(versions[i], versions[j]) < 0 })
		for i := 1; i < len(versions); i++ {
			if index.CompareVersions(versions[i-1], versions[i]) > 0 {
				t.Fatalf("%s: sort not consistent at %q, %q", c.index, versions[i-1], versions[i])
			}
		}
	}
}
