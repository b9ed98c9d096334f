package sbom

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const testGoMod = `module example.com/app

go 1.25

require (
	example.com/a v1.0.0
	example.com/a/b v1.2.0
	example.com/old v0.1.0
	example.com/unsummed v0.3.0
)

replace example.com/old => example.com/new v0.2.0
`

const testGoSum = `example.com/a v1.0.0 h1:AAAA
example.com/a v1.0.0/go.mod h1:aaaa
example.com/a/b v1.2.0 h1:BBBB
example.com/new v0.2.0 h1:NNNN
example.com/old v0.1.0 h1:OOOO
`

// writeFiles writes name -> content into a temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestGoModModules(t *testing.T) {
	dir := writeFiles(t, map[string]string{"go.mod": testGoMod, "go.sum": testGoSum})
	m, err := ReadGoMod(filepath.Join(dir, "go.mod"), filepath.Join(dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	// example.com/ab is not below example.com/a: in no module.
	_, err = m.Modules(map[string]string{"example.com/a/x": "@a//x", "example.com/ab": "//not-a"})
	if err == nil || !strings.Contains(err.Error(), "package example.com/ab (//not-a) is in no module that "+filepath.Join(dir, "go.mod")+" requires") {
		t.Fatalf("want the package in no module named, got %v", err)
	}
	// The main module's package is not a dependency; a/b/c is in a/b, the longest prefix; the
	// replaced module has the replacement's sum; one without a go.sum line has none.
	got, err := m.Modules(map[string]string{
		"example.com/app/cmd": "//cmd", "example.com/a/x": "@a//x", "example.com/a/b/c": "@a_b//c",
		"example.com/old/pkg": "@old//pkg", "example.com/unsummed": "@u//:u",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []GoModule{
		{Path: "example.com/a", Version: "v1.0.0", Sum: "h1:AAAA"},
		{Path: "example.com/a/b", Version: "v1.2.0", Sum: "h1:BBBB"},
		{Path: "example.com/old", Version: "v0.1.0", ReplacePath: "example.com/new", ReplaceVersion: "v0.2.0", Sum: "h1:NNNN"},
		{Path: "example.com/unsummed", Version: "v0.3.0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if m.Main() != "example.com/app" {
		t.Fatalf("main %q", m.Main())
	}
}

func TestGoModErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"nomodule/go.mod": "go 1.25\n",
		"bad/go.mod":      "module x\nrequire (\n",
		"ok/go.mod":       "module x\n",
		"ok/go.sum":       "example.com/a v1.0.0\n",
	})
	for _, c := range []struct{ mod, sum, want string }{
		{"nomodule/go.mod", "", "nomodule/go.mod: no module line"},
		{"bad/go.mod", "", "bad/go.mod:"},
		{"missing/go.mod", "", "missing/go.mod: no such file"},
		{"ok/go.mod", "ok/go.sum", `ok/go.sum:1: not a go.sum line: "example.com/a v1.0.0"`},
	} {
		sum := ""
		if c.sum != "" {
			sum = filepath.Join(dir, c.sum)
		}
		_, err := ReadGoMod(filepath.Join(dir, c.mod), sum)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error with %q, got %v", c.mod, c.want, err)
		}
	}
}
