package layer

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Past statAll's serial size the sources are looked at on several goroutines: the
// entries are those of the one-by-one expansion (files in place, a directory expanded where
// it stands), and of two missing sources the first given is the one reported.
func TestAddFilesManyInputs(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	var values []string
	var want []Entry
	for i := range n {
		src := filepath.Join(dir, fmt.Sprintf("f%04d", i))
		dest := fmt.Sprintf("/srv/f%04d", i)
		if i == 1500 {
			// A directory among the files: expanded in place.
			if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, "sub", "x"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			tree, err := ExpandDir(dest, src, ExecNo)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, tree...)
		} else {
			if err := os.WriteFile(src, []byte(dest), 0o644); err != nil {
				t.Fatal(err)
			}
			want = append(want, Entry{Path: dest, Source: src, Exec: ExecNo})
		}
		values = append(values, dest+"="+src)
	}
	var in Inputs
	if err := in.AddFiles("data-file", values, ExecNo); err != nil {
		t.Fatal(err)
	}
	var got []Entry
	for _, e := range in.entries {
		if !strings.HasPrefix(e.Input, "--data-file=/srv/f") || !strings.HasSuffix(e.Input, " (files)") {
			t.Fatalf("%s: Input %q", e.Path, e.Input)
		}
		e.Input = ""
		e.Path = "/" + e.Path
		// Each file given was read while its source was looked at (a few bytes, well
		// within the budget), and holds what the file does; a directory's are read later.
		if e.Source != "" && !strings.Contains(e.Path, "/sub/") && (e.read == nil || string(e.read.data) != e.Path) {
			t.Fatalf("%s: read ahead %+v, want its content", e.Path, e.read)
		}
		e.read = nil
		got = append(got, e)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entries differ from one-by-one expansion: %d against %d", len(got), len(want))
	}

	for _, i := range []int{2900, 2500} {
		if err := os.Remove(filepath.Join(dir, fmt.Sprintf("f%04d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var again Inputs
	err := again.AddFiles("data-file", values, ExecNo)
	missing := filepath.Join(dir, "f2500")
	if err == nil || !strings.Contains(err.Error(), "--data-file /srv/f2500="+missing+": stat "+missing+": no such file or directory") {
		t.Fatalf("got %v, want the first missing source named", err)
	}
}
