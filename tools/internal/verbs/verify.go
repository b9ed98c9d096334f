package verbs

import (
	"context"
	"io"
	"os"

	"github.com/rules-wharf/rules_wharf/tools/internal/push"
)

// verifyVerb checks pushed images' signatures and attestations against a public key;
// push.VerifyConfig holds its flags.
func verifyVerb(args []string, log io.Writer) error {
	var c push.VerifyConfig
	fs := newFlags("verify")
	c.RegisterFlags(fs)
	if err := parseFlags(fs, args, log); err != nil {
		return err
	}
	return c.Run(context.Background(), os.Stdout)
}
