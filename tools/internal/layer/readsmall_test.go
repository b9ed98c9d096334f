package layer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// readSmall (raw system calls on unix) gives what the portable path through package os
// gives: bytes, permission bits, "streamed by the writer" (nil, nil) and error messages.
func TestReadSmallAgreesWithPortable(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte{'x'}, size), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // no umask
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]string{
		"small":      write("small", 100, 0o644),
		"executable": write("exec", 10, 0o755),
		"empty":      write("empty", 0, 0o600),
		"at the max": write("max", 4096, 0o644),
		"too large":  write("large", 4097, 0o644),
		"directory":  dir,
		"missing":    filepath.Join(dir, "missing"),
		"through a link": func() string {
			p := filepath.Join(dir, "link")
			if err := os.Symlink("small", p); err != nil {
				t.Fatal(err)
			}
			return p
		}(),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			data, perm, err := readSmall(p, 4096)
			wdata, wperm, werr := readSmallPortable(p, 4096)
			if werr != nil {
				// The portable path refuses what is not a regular file at once; readSmall
				// leaves it to the writer, which refuses it with the same words.
				if err == nil && data == nil {
					if _, _, err = openRegular(p); err == nil {
						t.Fatalf("openRegular(%s) accepted what the portable read refused: %v", p, werr)
					}
				}
				if fmt.Sprint(err) != fmt.Sprint(werr) {
					t.Fatalf("error %q, portable %q", err, werr)
				}
				return
			}
			if err != nil || !bytes.Equal(data, wdata) || perm != wperm || (data == nil) != (wdata == nil) {
				t.Fatalf("got %d bytes %v %v, portable %d bytes %v", len(data), perm, err, len(wdata), wperm)
			}
		})
	}
}
