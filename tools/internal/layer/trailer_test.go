package layer_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// afterEnd writes a tar holding head's entries followed by tail's bytes, plain and
// compressed, and returns the three files.
func afterEnd(t *testing.T, head string, tail []byte) []string {
	t.Helper()
	b, _ := os.ReadFile(head)
	plain := filepath.Join(t.TempDir(), "appended.tar")
	if err := os.WriteFile(plain, append(b, tail...), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{plain, compressed(t, plain, layer.Gzip), compressed(t, plain, layer.Zstd)}
}

// A second tar appended after the first's end-of-archive marker (#26 item 11): `tar -i`
// unpacks it, so "lnk/passwd" after "lnk -> /etc" would land in /etc, and the checks never
// saw it. Neither a passthrough (whose blob is the archive) nor a re-pack takes it.
func TestDataAfterTheEndMarkerIsRefused(t *testing.T) {
	lnk := tarFile(t, &tar.Header{Name: "lnk", Typeflag: tar.TypeSymlink, Linkname: "/etc"})
	hidden, _ := os.ReadFile(tarFile(t, &tar.Header{Name: "lnk/passwd", Typeflag: tar.TypeReg}))
	size, _ := os.Stat(lnk)
	for _, name := range afterEnd(t, lnk, hidden) {
		want := fmt.Sprintf("tar %s: data after the tar's end-of-archive marker (two zero blocks), at byte %d of the tar: "+
			"tar stops at the marker, so no check saw it, but `tar -i` unpacks it; a layer may not carry it "+
			"(was another tar appended? make one archive of both)", name, size.Size())
		if _, _, err := passthrough(t, name, layer.Gzip); err == nil || err.Error() != want {
			t.Errorf("passthrough: got %v\nwant %s", err, want)
		}
		var out bytes.Buffer
		if err := layer.WriteTarWithArchives(&out, nil, []string{name}, layer.Epoch); err == nil || err.Error() != want {
			t.Errorf("re-pack: got %v\nwant %s", err, want)
		}
	}
}

// Zeros after the marker are the padding of a tar's last record (10240 bytes by default
// for GNU tar) and stay accepted; a compressed archive is still kept byte for byte.
func TestZeroPaddingAfterTheEndMarkerIsAccepted(t *testing.T) {
	f := tarFile(t, &tar.Header{Name: "f", Typeflag: tar.TypeReg})
	size, _ := os.Stat(f)
	for _, name := range afterEnd(t, f, make([]byte, 10240-size.Size()%10240+10240)) {
		given, _ := os.ReadFile(name)
		blob, _, err := passthrough(t, name, layer.Zstd)
		if err != nil {
			t.Fatalf("passthrough: %v", err)
		}
		if filepath.Ext(name) != ".tar" && !bytes.Equal(blob, given) {
			t.Errorf("%s: the compressed archive was not kept byte for byte", name)
		}
		if err := layer.WriteTarWithArchives(&bytes.Buffer{}, nil, []string{name}, layer.Epoch); err != nil {
			t.Errorf("re-pack: %v", err)
		}
	}
}
