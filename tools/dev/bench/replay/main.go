// Command replay stands in for wharf in the bench, to measure what Bazel itself costs to run
// an image build's actions: for each command line it copies the outputs a real build wrote
// (from a stash of that build's bazel-out) and does nothing else. The action graph, inputs,
// outputs, worker protocol and output bytes are the real build's; the tool's work is a few
// small file copies.
//
// An argument names an output when the stash holds a file at that path and the execroot
// does not: Bazel deletes an action's outputs before it runs, and its inputs exist.
//
//	replay [--persistent_worker] VERB FLAGS...   (the stash directory is set at link time)
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
	"github.com/rules-wharf/rules_wharf/tools/internal/worker"
)

// stash is the copy of a real build's execroot outputs (bazel-out/...), set with
// -ldflags "-X main.stash=DIR".
var stash string

func main() {
	if stash == "" {
		fmt.Fprintln(os.Stderr, "replay: built without -X main.stash=DIR")
		os.Exit(2)
	}
	if len(os.Args) > 1 && os.Args[len(os.Args)-1] == "--persistent_worker" {
		if err := worker.Serve(os.Stdin, os.Stdout, func(args []string, _ io.Writer) error {
			return replay(stash, args)
		}); err != nil {
			fmt.Fprintln(os.Stderr, "replay: worker:", err)
			os.Exit(1)
		}
		return
	}
	args, err := cli.ExpandParamFiles(os.Args[1:])
	if err == nil {
		err = replay(stash, args)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

// replay copies every output the arguments name from the stash; a command line with no
// output found is an error (the stash is not of this build).
func replay(stash string, args []string) error {
	n := 0
	for _, a := range args {
		if i := strings.IndexByte(a, '='); i >= 0 && strings.HasPrefix(a, "-") {
			a = a[i+1:]
		}
		if !strings.HasPrefix(a, "bazel-out/") {
			continue
		}
		src := filepath.Join(stash, a)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if _, err := os.Lstat(a); err == nil {
			continue // an input
		}
		if err := oci.CopyFile(src, a); err != nil {
			return fmt.Errorf("writing %s: %w", a, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no output of %q is in the stash %s", args, stash)
	}
	return nil
}
