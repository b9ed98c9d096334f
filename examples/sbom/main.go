// Command words splits its arguments as a shell would and writes them gzip-compressed, one
// per line: a program with third-party modules (shlex, pgzip and the compress module pgzip
// links) whose image's SBOM must list them.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/shlex"
	"github.com/klauspost/pgzip"
)

func main() {
	words, err := shlex.Split(strings.Join(os.Args[1:], " "))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := pgzip.NewWriter(os.Stdout)
	for _, word := range words {
		fmt.Fprintln(w, word)
	}
	if err := w.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
