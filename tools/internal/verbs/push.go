package verbs

import (
	"context"
	"io"
	"os"

	"github.com/rules-wharf/rules_wharf/tools/internal/push"
)

// pushVerb pushes what oci_push's plans describe; push.Config holds its flags and how
// they combine with the environment and the .bazelrc files.
func pushVerb(args []string, log io.Writer) error {
	var c push.Config
	fs := newFlags("push")
	c.RegisterFlags(fs)
	if err := parseFlags(fs, args, log); err != nil {
		return err
	}
	return c.Run(context.Background(), os.Stdout, os.Stderr)
}
