//go:build unix

package layer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// probe reads what it may and tells the rest apart as os.Stat does: a FIFO does not block
// it, a missing file gives os.Stat's error, and past the budget or prefetchMax nothing is
// kept (the writer reads those later).
func TestProbe(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("abc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(small, 0o755); err != nil {
		t.Fatal(err)
	}
	large := filepath.Join(dir, "large")
	if err := os.WriteFile(large, bytes.Repeat([]byte{'x'}, prefetchMax+1), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	full := func() *atomic.Int64 { var b atomic.Int64; b.Store(probeBudget); return &b }
	a := &arena{}

	got := probe(small, full(), a)
	if got.err != nil || got.dir || got.read == nil || string(got.read.data) != "abc" || got.read.perm != 0o755 {
		t.Fatalf("small file: %+v", got)
	}
	if got := probe(dir, full(), a); !got.dir || got.err != nil || got.read != nil {
		t.Fatalf("directory: %+v", got)
	}
	if got := probe(large, full(), a); got.dir || got.err != nil || got.read != nil {
		t.Fatalf("file past prefetchMax: %+v", got)
	}
	if got := probe(fifo, full(), a); got.dir || got.err != nil || got.read != nil {
		t.Fatalf("FIFO: %+v", got)
	}
	missing := filepath.Join(dir, "missing")
	if got := probe(missing, full(), a); got.err == nil || got.err.Error() != "stat "+missing+": no such file or directory" {
		t.Fatalf("missing file: %+v, want os.Stat's error", got)
	}
	// A budget that the file's bytes and its keeping overrun: stat'ed only, and from then
	// on every probe is a stat.
	var low atomic.Int64
	low.Store(3 + probeOverhead - 1)
	if got := probe(small, &low, a); got.read != nil || got.err != nil || got.dir {
		t.Fatalf("past the budget: %+v", got)
	}
	if low.Load() > 0 {
		t.Fatalf("budget left %d, want it spent", low.Load())
	}
	if got := probe(dir, &low, a); !got.dir {
		t.Fatalf("directory after the budget: %+v", got)
	}
}

// A layer whose files were read ahead has the bytes of one whose files were read when
// written; a FIFO among the files fails as before, named.
func TestProbedLayerSameBytes(t *testing.T) {
	dir := t.TempDir()
	var values []string
	for i, name := range []string{"b", "a", "c/d", "e"} {
		p := filepath.Join(dir, strings.ReplaceAll(name, "/", "_"))
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte('0' + i)}, 700*i), 0o644); err != nil {
			t.Fatal(err)
		}
		values = append(values, "/srv/"+name+"="+p)
	}
	layerOf := func(forget bool) []byte {
		var in Inputs
		if err := in.AddFiles("file", values, ExecFromSource); err != nil {
			t.Fatal(err)
		}
		entries := in.Entries()
		for i := range entries {
			if forget {
				entries[i].read = nil
			}
		}
		var b bytes.Buffer
		if err := WriteTar(&b, entries, Epoch); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if !bytes.Equal(layerOf(false), layerOf(true)) {
		t.Fatal("the layer of files read ahead differs")
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var in Inputs
	if err := in.AddFiles("file", append(values, "/srv/fifo="+fifo), ExecFromSource); err != nil {
		t.Fatal(err)
	}
	err := WriteTar(&bytes.Buffer{}, in.Entries(), Epoch)
	if err == nil || err.Error() != fifo+": not a regular file (p---------)" {
		t.Fatalf("got %v, want the FIFO named", err)
	}
}
