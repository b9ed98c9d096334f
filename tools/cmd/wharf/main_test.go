package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/worker"
)

// Verbs run concurrently in one worker process write the same bytes as one run each: the
// verbs share no state, and a failing request fails alone, naming its verb.
func TestWorkerMatchesProcess(t *testing.T) {
	dir := t.TempDir()
	const n = 12
	var in strings.Builder
	direct := make([][]string, n)
	for i := 0; i < n; i++ {
		src := filepath.Join(dir, fmt.Sprintf("src%d", i))
		if err := os.WriteFile(src, bytes.Repeat([]byte(fmt.Sprintf("file %d\n", i)), 1000*(i+1)), 0o644); err != nil {
			t.Fatal(err)
		}
		args := func(tag string) []string {
			return []string{"layer", "--file", fmt.Sprintf("/app/f%d=%s", i, src), "--mode", fmt.Sprintf("/app/f%d=0755", i),
				"--blob", filepath.Join(dir, fmt.Sprintf("%s%d.tgz", tag, i)), "--metadata", filepath.Join(dir, fmt.Sprintf("%s%d.json", tag, i))}
		}
		direct[i] = args("direct")
		req, err := json.Marshal(worker.Request{Arguments: args("worker"), RequestID: i + 1})
		if err != nil {
			t.Fatal(err)
		}
		in.Write(append(req, '\n'))
	}
	in.WriteString(`{"arguments":["layer","--blob","x"],"requestId":99}` + "\n")
	var out bytes.Buffer
	if err := worker.Serve(strings.NewReader(in.String()), &out, dispatch); err != nil {
		t.Fatal(err)
	}
	codes := map[int]worker.Response{}
	s := bufio.NewScanner(&out)
	for s.Scan() {
		var r worker.Response
		if err := json.Unmarshal(s.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		codes[r.RequestID] = r
	}
	if len(codes) != n+1 {
		t.Fatalf("%d responses, want %d", len(codes), n+1)
	}
	if r := codes[99]; r.ExitCode != 1 || !strings.Contains(r.Output, "layer:") {
		t.Errorf("bad request: exit %d output %q, want exit 1 naming the verb", r.ExitCode, r.Output)
	}
	for i := 0; i < n; i++ {
		if r := codes[i+1]; r.ExitCode != 0 {
			t.Fatalf("request %d: exit %d: %s", i+1, r.ExitCode, r.Output)
		}
		if err := run(direct[i], io.Discard); err != nil {
			t.Fatal(err)
		}
		for _, ext := range []string{".tgz", ".json"} {
			a, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("direct%d%s", i, ext)))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("worker%d%s", i, ext)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("layer %d: %s differs between the worker and a process of its own", i, ext)
			}
		}
	}
}

// A value starting with @ (a tagged repository line) is a value, whether it arrives as a
// line of a param file or in a worker request, which carries those lines: both write the
// same layer.
func TestAtValuesAreNotParamFiles(t *testing.T) {
	dir := t.TempDir()
	args := func(tag string) []string {
		return []string{"apk-installdb", "--arch", "x86_64", "--repository", "@vendor https://apk.vendor.example/apk", "--repository", "https://packages.wolfi.dev/os",
			"--blob", filepath.Join(dir, tag+".tgz"), "--metadata", filepath.Join(dir, tag+".json")}
	}
	params := filepath.Join(dir, "params")
	if err := os.WriteFile(params, []byte(strings.Join(args("process"), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"@" + params}, io.Discard); err != nil {
		t.Fatalf("from a param file: %v", err)
	}
	req, _ := json.Marshal(worker.Request{Arguments: args("worker"), RequestID: 1})
	var out bytes.Buffer
	if err := worker.Serve(bytes.NewReader(append(req, '\n')), &out, dispatch); err != nil {
		t.Fatal(err)
	}
	var r worker.Response
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.ExitCode != 0 {
		t.Fatalf("worker: %v exit %d: %s", err, r.ExitCode, r.Output)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "process.tgz"))
	b, _ := os.ReadFile(filepath.Join(dir, "worker.tgz"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("the worker wrote %d bytes, the process %d: they differ", len(b), len(a))
	}
}

// The commands a person runs print every flag with -h and --help and succeed; a flag
// they do not know still fails.
func TestHelpListsEveryFlag(t *testing.T) {
	for verb, flags := range map[string][]string{
		"push": {"plan", "execroot", "repository", "registry", "tag", "remote-cache", "remote-instance-name", "remote-header",
			"tls-certificate", "tls-client-certificate", "tls-client-key", "disk-cache", "bazel-config", "bazelrc", "no-bazelrc",
			"credential-helper", "progress", "jobs", "stall-timeout"},
		"lock": {"config", "lock", "dir", "config-name", "arch", "check", "refresh-command", "credential_helper"},
	} {
		for _, help := range []string{"-h", "--help"} {
			var log bytes.Buffer
			if err := run([]string{verb, help}, &log); err != nil {
				t.Fatalf("%s %s: %v", verb, help, err)
			}
			if want := "usage: wharf " + verb + " [flags]\n"; !strings.HasPrefix(log.String(), want) {
				t.Errorf("%s %s printed %.200q, want it to start with %q", verb, help, log.String(), want)
			}
			for _, f := range flags {
				if !strings.Contains(log.String(), "\n  -"+f+" ") && !strings.Contains(log.String(), "\n  -"+f+"\n") {
					t.Errorf("%s %s does not list -%s:\n%s", verb, help, f, log.String())
				}
			}
		}
		err := run([]string{verb, "--no-such-flag"}, io.Discard)
		if want := verb + ": flag provided but not defined: -no-such-flag"; err == nil || err.Error() != want {
			t.Errorf("%s --no-such-flag: %v, want %q", verb, err, want)
		}
	}
}
