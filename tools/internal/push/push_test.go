package push

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestStallTimeoutIsIdleNotTotal sends and receives bodies that trickle in for several
// idle periods in all: a stall timeout must not cut off a request that keeps moving.
func TestStallTimeoutIsIdleNotTotal(t *testing.T) {
	// Wide margins: each direction alone outlasts idle, yet no gap comes near it.
	const idle, tick, ticks = 600 * time.Millisecond, 30 * time.Millisecond, 30
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for range ticks {
			time.Sleep(tick)
			w.Write([]byte("y"))
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() {
		for range ticks {
			time.Sleep(tick)
			pw.Write([]byte("x"))
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPut, srv.URL, pr)
	c := &http.Client{Transport: &stallTransport{inner: remote.DefaultTransport, idle: idle}}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); len(b) != ticks || took < 2*ticks*tick {
		t.Fatalf("read %q in %v; the test proves nothing unless both bodies trickle", b, took)
	}
}
