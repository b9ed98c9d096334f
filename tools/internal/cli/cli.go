// Package cli holds the small pieces every verb of the wharf tool shares: param-file
// expansion and repeatable flags.
package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// ExpandParamFiles replaces each argument "@FILE" with the lines of FILE, as Bazel writes
// them with ctx.actions.args().use_param_file("@%s") in the "multiline" format. "@@x" is
// a literal "@x".
func ExpandParamFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "@@"):
			out = append(out, a[1:])
		case strings.HasPrefix(a, "@") && len(a) > 1:
			f, err := os.Open(a[1:])
			if err != nil {
				return nil, fmt.Errorf("param file: %w", err)
			}
			s := bufio.NewScanner(f)
			s.Buffer(make([]byte, 64*1024), 16*1024*1024)
			for s.Scan() {
				out = append(out, s.Text())
			}
			err = s.Err()
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("param file %s: %w", a[1:], err)
			}
		default:
			out = append(out, a)
		}
	}
	return out, nil
}

// Strings is a repeatable string flag.
type Strings []string

func (s *Strings) String() string     { return strings.Join(*s, ",") }
func (s *Strings) Set(v string) error { *s = append(*s, v); return nil }

// Require returns an error naming the first empty flag among name=value pairs.
func Require(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return fmt.Errorf("missing required flag --%s", pairs[i])
		}
	}
	return nil
}
