// Package worker serves Bazel's persistent worker protocol in its JSON form, multiplexed:
// one process answers many requests at once, each on its own goroutine. It saves what a
// short action pays per run (process start, sandbox tree, Bazel's spawn bookkeeping) for
// actions run by the hundred, such as extracting each package of a lock.
//
// The same command line runs as a plain action (remote execution, --strategy=local); the
// worker only changes how Bazel delivers it locally.
package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Request is a WorkRequest (worker_protocol.proto) in its JSON mapping.
type Request struct {
	Arguments  []string `json:"arguments"`
	RequestID  int      `json:"requestId"`
	Cancel     bool     `json:"cancel"`
	Verbosity  int      `json:"verbosity"`
	SandboxDir string   `json:"sandboxDir"`
}

// Response is a WorkResponse in its JSON mapping.
type Response struct {
	ExitCode     int    `json:"exitCode"`
	Output       string `json:"output"`
	RequestID    int    `json:"requestId"`
	WasCancelled bool   `json:"wasCancelled,omitempty"`
}

// RunFunc runs one request's arguments (already expanded from the flagfile by Bazel).
// Whatever it writes to log reaches the user as the action's output.
type RunFunc func(args []string, log io.Writer) error

// Serve reads requests from in until it ends and writes one response per request to out.
// Requests run concurrently; a request with requestId 0 (a singleplex worker) runs before
// the next is read. A run's error becomes exit code 1 and the output's last line; a
// panic is reported the same way instead of killing the other requests in flight.
func Serve(in io.Reader, out io.Writer, run RunFunc) error {
	dec := json.NewDecoder(in)
	var (
		mu   sync.Mutex // serializes responses on out
		wg   sync.WaitGroup
		werr error
	)
	enc := json.NewEncoder(out)
	respond := func(r Response) {
		mu.Lock()
		defer mu.Unlock()
		if err := enc.Encode(r); err != nil && werr == nil {
			werr = fmt.Errorf("writing response %d: %w", r.RequestID, err)
		}
	}
	for {
		var req Request
		if err := dec.Decode(&req); err != nil {
			wg.Wait()
			if errors.Is(err, io.EOF) {
				return werr
			}
			return fmt.Errorf("reading work request: %w", err)
		}
		if req.Cancel {
			// Requests are short and write outputs Bazel discards when cancelled;
			// finishing them is simpler than stopping them midway.
			continue
		}
		handle := func(req Request) {
			defer wg.Done()
			respond(runOne(req, run))
		}
		wg.Add(1)
		if req.RequestID == 0 {
			handle(req)
		} else {
			go handle(req)
		}
	}
}

func runOne(req Request, run RunFunc) (resp Response) {
	resp.RequestID = req.RequestID
	var log bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(&log, "wharf: internal error: %v\n", p)
			resp.ExitCode = 1
		}
		resp.Output = log.String()
	}()
	if err := run(req.Arguments, &log); err != nil {
		fmt.Fprintf(&log, "wharf: %v\n", err)
		resp.ExitCode = 1
	}
	return resp
}
