//go:build e2e

package apkoconfig

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
)

const header = `# Every YAML key of apko v1.2.39's image configuration (chainguard.dev/apko/pkg/build/types
# ImageConfiguration), one a line: written by TestApkoKeysListIsCurrent (-update-keys), each
# given a case, built or refused, by TestEveryApkoKey.
`

var updateKeys = flag.Bool("update-keys", false, "rewrite testdata/apko_keys.txt from apko's module")

// TestApkoKeysListIsCurrent: testdata/apko_keys.txt, the keys TestEveryApkoKey gives a case,
// is every YAML key of apko's ImageConfiguration (pkg/build/types in the apkooracle module,
// read through the Go module cache), walked through its struct fields as yaml.v3 names them.
// `go test -tags e2e -run TestApkoKeysListIsCurrent ./tools/internal/apkoconfig/ -update-keys`
// rewrites it.
func TestApkoKeysListIsCurrent(t *testing.T) {
	dir := filepath.Join(apkooracle.ModuleDir(t), "pkg", "build", "types")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	structs := map[string]*ast.StructType{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	if structs["ImageConfiguration"] == nil {
		t.Fatalf("%s: no ImageConfiguration struct", dir)
	}
	var keys []string
	walkKeys(structs, "ImageConfiguration", "", &keys)
	sort.Strings(keys)
	got := strings.Join(keys, "\n") + "\n"
	file := filepath.Join("testdata", "apko_keys.txt")
	if *updateKeys {
		if err := os.WriteFile(file, []byte(header+got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := readKeys(file)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("%s is not %s's keys (rerun with -update-keys, then give each new key a case in TestEveryApkoKey):\n%s", file, apkooracle.Module, got)
	}
	t.Logf("%d keys, as %s", len(keys), apkooracle.Module)
}

// walkKeys appends the keys of struct name's fields under prefix: leaves (strings, numbers,
// lists and maps of them, types of other packages) as they are, structs field by field
// (a list of structs as KEY[].FIELD).
func walkKeys(structs map[string]*ast.StructType, name, prefix string, keys *[]string) {
	for _, f := range structs[name].Fields.List {
		if len(f.Names) == 0 || !f.Names[0].IsExported() {
			continue
		}
		key := yamlName(f)
		if key == "-" {
			continue
		}
		typ, list := f.Type, ""
		for {
			switch x := typ.(type) {
			case *ast.StarExpr:
				typ = x.X
				continue
			case *ast.ArrayType:
				typ, list = x.Elt, "[]"
				continue
			}
			break
		}
		if id, ok := typ.(*ast.Ident); ok && structs[id.Name] != nil {
			walkKeys(structs, id.Name, prefix+key+list+".", keys)
			continue
		}
		*keys = append(*keys, prefix+key)
	}
}

// yamlName is the key yaml.v3 decodes a field from: its yaml tag's name, else the field's
// name in lower case.
func yamlName(f *ast.Field) string {
	if f.Tag != nil {
		tag, _ := strconv.Unquote(f.Tag.Value)
		if v, ok := reflect.StructTag(tag).Lookup("yaml"); ok {
			if n, _, _ := strings.Cut(v, ","); n != "" {
				return n
			}
		}
	}
	return strings.ToLower(f.Names[0].Name)
}
