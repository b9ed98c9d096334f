package verbs

import (
	"fmt"
	"io"
)

// Version is the release the binary was built for, stamped by tools/dev/release with
// -ldflags "-X github.com/rules-wharf/rules_wharf/tools/internal/verbs.Version=...";
// a build from source (rules_go, go build) says "dev".
var Version = "dev"

// versionVerb prints the stamped version, so a downloaded binary can be told apart from
// one built from source.
func versionVerb(args []string, log io.Writer) error {
	if len(args) != 0 {
		return fmt.Errorf("takes no arguments, got %q", args)
	}
	_, err := fmt.Fprintf(log, "wharf %s\n", Version)
	return err
}
