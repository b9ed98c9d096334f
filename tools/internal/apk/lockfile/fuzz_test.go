package lockfile

import (
	"reflect"
	"testing"
)

// Seeds live in testdata/fuzz/FuzzParse/ (committed); run with
//	go test -fuzz=FuzzParse -fuzztime=60s ./tools/internal/apk/lockfile/

// FuzzParse: any input parses or fails with an error, never panics; what parses is
// written back and parses to the same lock, and writing that again gives the same bytes.
func FuzzParse(f *testing.F) {
	f.Add([]byte(apkoShape))
	f.Add([]byte(`{"contents":{"packages":[]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Parse(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		out, err := Marshal(l)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		l2, err := Parse(out)
		if err != nil {
			t.Fatalf("written lock does not parse: %v\n%s", err, out)
		}
		out2, err := Marshal(l2)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
		norm := func(l *Lock) *Lock {
			c := *l
			for _, p := range []*[]Repo{&c.Contents.BuildRepositories, &c.Contents.RuntimeRepositories, &c.Contents.Repositories} {
				if *p == nil {
					*p = []Repo{}
				}
			}
			if c.Contents.Keyring == nil {
				c.Contents.Keyring = []Keyring{}
			}
			if c.Contents.Packages == nil {
				c.Contents.Packages = []Package{}
			}
			return &c
		}
		if !reflect.DeepEqual(norm(l), norm(l2)) {
			t.Fatalf("round trip changed the lock:\n%+v\n%+v", l, l2)
		}
	})
}
