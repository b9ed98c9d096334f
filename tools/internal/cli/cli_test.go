package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExpandParamFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "params")
	os.WriteFile(p, []byte("layer\n--file=a=b c\n@not-expanded-again\n"), 0o644)
	got, err := ExpandParamFiles([]string{"@" + p, "--x", "@@literal"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "layer|--file=a=b c|@not-expanded-again|--x|@literal"; strings.Join(got, "|") != want {
		t.Fatalf("got %q", got)
	}
	if _, err := ExpandParamFiles([]string{"@" + p + ".missing"}); err == nil {
		t.Fatal("missing param file accepted")
	}
}
