package worker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serve runs Serve on input and returns its responses by request id, their order, and
// Serve's error. Ids must be unique unless single is set (singleplex: all are 0).
func serve(t *testing.T, input string, run RunFunc, single bool) (map[int]Response, []int, error) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Serve(strings.NewReader(input), pw, run); pw.Close() }()
	got := map[int]Response{}
	var order []int
	s := bufio.NewScanner(pr)
	for s.Scan() {
		var r Response
		if err := json.Unmarshal(s.Bytes(), &r); err != nil {
			t.Fatalf("response %q is not one JSON object per line: %v", s.Text(), err)
		}
		if _, dup := got[r.RequestID]; dup && !single {
			t.Fatalf("two responses for request %d", r.RequestID)
		}
		got[r.RequestID] = r
		order = append(order, r.RequestID)
	}
	return got, order, <-done
}

func requests(ids ...int) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, `{"arguments":["verb","--id","%d"],"inputs":[{"path":"x","digest":"YQ=="}],"requestId":%d}`+"\n", id, id)
	}
	return b.String()
}

// Multiplexed requests run at the same time, and each response carries its own id, exit
// code and output.
func TestMultiplex(t *testing.T) {
	const n = 16
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i + 1
	}
	var running, peak atomic.Int32
	release := make(chan struct{})
	run := func(args []string, log io.Writer) error {
		c := running.Add(1)
		for p := peak.Load(); c > p && !peak.CompareAndSwap(p, c); p = peak.Load() {
		}
		if c == n {
			close(release) // all n are in flight at once
		}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		defer running.Add(-1)
		id := args[2]
		fmt.Fprintf(log, "ran %s\n", id)
		if id == "7" {
			return errors.New("request seven fails")
		}
		if id == "9" {
			panic("request nine panics")
		}
		return nil
	}
	got, _, err := serve(t, requests(ids...), run, false)
	if err != nil {
		t.Fatal(err)
	}
	if peak.Load() != n {
		t.Errorf("at most %d requests ran at once, want %d", peak.Load(), n)
	}
	for _, id := range ids {
		r, ok := got[id]
		if !ok {
			t.Errorf("no response for request %d", id)
			continue
		}
		want := fmt.Sprintf("ran %d\n", id)
		switch id {
		case 7:
			want += "wharf: request seven fails\n"
		case 9:
			want += "wharf: internal error: request nine panics\n"
		}
		wantCode := 0
		if id == 7 || id == 9 {
			wantCode = 1
		}
		if r.ExitCode != wantCode || r.Output != want {
			t.Errorf("request %d: exit %d output %q, want exit %d output %q", id, r.ExitCode, r.Output, wantCode, want)
		}
	}
}

// A singleplex worker (requestId 0) gets its responses in request order, one at a time.
func TestSingleplex(t *testing.T) {
	var running atomic.Int32
	var calls []string
	run := func(args []string, log io.Writer) error {
		if running.Add(1) != 1 {
			t.Error("singleplex requests overlapped")
		}
		defer running.Add(-1)
		calls = append(calls, strings.Join(args, " "))
		return nil
	}
	in := `{"arguments":["a"]}` + "\n" + `{"arguments":["b"],"requestId":0}` + "\n"
	got, order, err := serve(t, in, run, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || got[0].ExitCode != 0 || strings.Join(calls, ",") != "a,b" {
		t.Errorf("responses %v, calls %v", order, calls)
	}
}

// A broken request stream is an error after the requests already read are answered.
func TestMalformedRequest(t *testing.T) {
	run := func(args []string, log io.Writer) error { return nil }
	got, _, err := serve(t, requests(1)+"{not json\n", run, false)
	if err == nil || !strings.Contains(err.Error(), "reading work request") {
		t.Fatalf("error %v, want one about reading the work request", err)
	}
	if _, ok := got[1]; !ok {
		t.Error("request 1, read before the broken one, was not answered")
	}
}
