package verbs

import (
	"strings"
	"testing"
)

func TestVersionVerb(t *testing.T) {
	var out strings.Builder
	if err := All()["version"].Run(nil, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "wharf dev\n" {
		t.Fatalf("unstamped binary says %q, want %q", out.String(), "wharf dev\n")
	}
	err := All()["version"].Run([]string{"--short"}, &out)
	if err == nil || err.Error() != `takes no arguments, got ["--short"]` {
		t.Fatalf("extra argument: got %v", err)
	}
}
