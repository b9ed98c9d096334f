package layer

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Files read ahead (small) and streamed (large) give the entries in order with their bytes
// and modes, as if read one by one.
func TestPrefetchedFiles(t *testing.T) {
	dir := t.TempDir()
	var entries []Entry
	want := map[string]string{}
	for i := range 300 {
		size := i * 7
		switch i {
		case 5:
			size = 0
		case 77, 200:
			size = prefetchMax + 1 + i // streamed
		}
		content := strings.Repeat(string(rune('a'+i%26)), size)
		p := filepath.Join(dir, fmt.Sprintf("f%03d", i))
		perm := os.FileMode(0o644)
		if i%3 == 0 {
			perm = 0o755
		}
		if err := os.WriteFile(p, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("srv/f%03d", i)
		entries = append(entries, Entry{Path: name, Source: p, Exec: ExecFromSource})
		mode := "644"
		if i%3 == 0 {
			mode = "755"
		}
		want[name] = mode + " " + content
	}
	var out bytes.Buffer
	if err := WriteTar(&out, entries, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&out)
	files := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if h.Typeflag != tar.TypeReg {
			continue
		}
		files++
		if got := fmt.Sprintf("%o %s", h.Mode, body); got != want[h.Name] {
			t.Fatalf("%s: got mode and %d bytes %.10q, want %.10q", h.Name, len(body), got, want[h.Name])
		}
	}
	if files != 300 {
		t.Fatalf("%d files in the tar, want 300", files)
	}
}

// A missing file among many fails with the error naming it, and no reader goroutine is
// left behind (push and layer verbs run in a persistent worker).
func TestPrefetchErrorStopsReaders(t *testing.T) {
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	var entries []Entry
	for i := range 1000 {
		p := filepath.Join(dir, fmt.Sprintf("f%04d", i))
		if i != 10 {
			os.WriteFile(p, []byte("x"), 0o644)
		}
		entries = append(entries, Entry{Path: fmt.Sprintf("f%04d", i), Source: p})
	}
	err := WriteTar(io.Discard, entries, time.Unix(0, 0))
	missing := filepath.Join(dir, "f0010")
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("got %v, want an error naming %s", err, missing)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after the failed write, %d before", n, before)
	}
}
