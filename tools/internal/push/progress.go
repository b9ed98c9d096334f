package push

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// progress counts what a push has moved, for the line a terminal shows while it runs.
type progress struct {
	blobs, done atomic.Int64
	bytes       atomic.Int64 // of the blobs to check
	sentBytes   atomic.Int64 // read from sources so far
}

func (p *progress) total(tasks []*blobTask) {
	for _, t := range tasks {
		p.blobs.Add(1)
		p.bytes.Add(t.desc.Size)
	}
}

func (p *progress) blobDone() { p.done.Add(1) }

func (p *progress) sent(n int) { p.sentBytes.Add(int64(n)) }

func (p *progress) line() string {
	return fmt.Sprintf("push: %d/%d blobs checked or moved, %s sent", p.done.Load(), p.blobs.Load(), Bytes(p.sentBytes.Load()))
}

// start prints the progress line to w every interval, overwriting itself, until the
// returned stop is called; with w nil it prints nothing.
func (p *progress) start(w io.Writer) (stop func()) {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintf(w, "\r\033[K%s\n", p.line())
				return
			case <-tick.C:
				fmt.Fprintf(w, "\r\033[K%s", p.line())
			}
		}
	}()
	return func() { close(done); <-finished }
}

// Bytes renders a byte count for people: 0 B, 512 B, 1.5 kB, 20.3 MB (powers of 1000, as
// registries and docker show sizes).
func Bytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		f /= 1000
		if f < 1000 {
			return fmt.Sprintf("%.1f %s", f, unit)
		}
	}
	return fmt.Sprintf("%.1f PB", f/1000)
}

// WriteSummary writes each image's outcome, then a total when there are several:
//
//	pushed //app:push  registry/app@sha256:…  tags: v1, latest
//	  sent 2 blobs (12.3 MB: remote cache 1, output tree 1), present 5 (40.1 MB), mounted 1 (2.0 MB)
//	failed //api:push  registry/api@sha256:…  tags: v1
//	  tag v1: PUT https://registry/v2/api/manifests/v1: DENIED: …
//	pushed 1 of 2 images, 1 failed
//	  sent 2 blobs (…), present 5 (…), mounted 1 (…)
func WriteSummary(w io.Writer, results []Result) {
	var total Result
	byStatus := map[Status]int{}
	for _, r := range results {
		byStatus[r.Status]++
		tags := "none"
		if len(r.Tags) > 0 {
			tags = strings.Join(r.Tags, ", ")
		}
		detail := counts(r)
		if r.Status != Pushed {
			detail = strings.ReplaceAll(r.Err.Error(), "\n", "\n  ")
		}
		fmt.Fprintf(w, "%s %s  %s  tags: %s\n  %s\n", r.Status, r.Label, r.Ref, tags, detail)
		total.add(r)
	}
	if len(results) < 2 {
		return
	}
	if byStatus[Pushed] == len(results) {
		fmt.Fprintf(w, "pushed %d images\n  %s\n", len(results), counts(total))
		return
	}
	line := fmt.Sprintf("pushed %d of %d images", byStatus[Pushed], len(results))
	for _, s := range []Status{Failed, Skipped} {
		if byStatus[s] > 0 {
			line += fmt.Sprintf(", %d %s", byStatus[s], s)
		}
	}
	fmt.Fprintf(w, "%s\n  %s\n", line, counts(total))
}

// add adds r's counts to total's.
func (total *Result) add(r Result) {
	total.Sent.Blobs += r.Sent.Blobs
	total.Sent.Bytes += r.Sent.Bytes
	total.Present.Blobs += r.Present.Blobs
	total.Present.Bytes += r.Present.Bytes
	total.Mounted.Blobs += r.Mounted.Blobs
	total.Mounted.Bytes += r.Mounted.Bytes
	for k, c := range r.From {
		if total.From == nil {
			total.From = map[string]*Count{}
		}
		if total.From[k] == nil {
			total.From[k] = &Count{}
		}
		total.From[k].Blobs += c.Blobs
		total.From[k].Bytes += c.Bytes
	}
}

func counts(r Result) string {
	var from []string
	for _, k := range slices.Sorted(maps.Keys(r.From)) {
		from = append(from, fmt.Sprintf("%s %d", k, r.From[k].Blobs))
	}
	sent := fmt.Sprintf("sent %d blobs (%s", r.Sent.Blobs, Bytes(r.Sent.Bytes))
	if len(from) > 0 {
		sent += ": " + strings.Join(from, ", ")
	}
	return fmt.Sprintf("%s), present %d (%s), mounted %d (%s)", sent,
		r.Present.Blobs, Bytes(r.Present.Bytes), r.Mounted.Blobs, Bytes(r.Mounted.Bytes))
}
