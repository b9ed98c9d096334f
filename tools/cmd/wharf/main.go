// Command wharf is the one tool behind rules_wharf's actions. It is a multi-call binary:
// the first argument names a verb, the rest are that verb's flags. Verbs return errors;
// only main exits.
//
// Arguments of the form @FILE are replaced by FILE's lines (Bazel "multiline" param files);
// the lines themselves are taken as they are, so a value may start with @ (a tagged
// repository, "@vendor https://..."). A worker request carries the lines already.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/verbs"
	"github.com/rules-wharf/rules_wharf/tools/internal/worker"
)

func main() {
	if len(os.Args) > 1 && os.Args[len(os.Args)-1] == "--persistent_worker" {
		// Bazel starts the tool as a persistent worker (the actions that declare
		// supports-workers); each request carries one ordinary command line.
		err := worker.Serve(os.Stdin, os.Stdout, func(args []string, log io.Writer) error {
			return dispatch(append(os.Args[1:len(os.Args)-1:len(os.Args)-1], args...), log)
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "wharf: worker: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "wharf: %v\n", err)
		os.Exit(1)
	}
}

// run runs a command line, expanding its param files (the verb itself may sit in one).
// A verb's -h has printed its flags: that is success.
func run(args []string, log io.Writer) error {
	args, err := cli.ExpandParamFiles(args)
	if err != nil {
		return err
	}
	if err := dispatch(args, log); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

// dispatch runs a verb with its arguments as given: a worker request's arguments are the
// lines of the action's param file, which Bazel has read already, and must not be read as
// param files again.
func dispatch(args []string, log io.Writer) error {
	all := verbs.All()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		names := make([]string, 0, len(all))
		for n := range all {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("usage: wharf VERB [flags]; verbs: %s", strings.Join(names, ", "))
	}
	verb, ok := all[args[0]]
	if !ok {
		return fmt.Errorf("unknown verb %q (try `wharf help`)", args[0])
	}
	if err := verb.Run(args[1:], log); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}
