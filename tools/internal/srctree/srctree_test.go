package srctree

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The repository's root is found from this package's directory, two Go modules below it
// (go test), and the example lock from the runfiles tree too (bazel test, where it is the test's data).
func TestPathFindsRepositoryFiles(t *testing.T) {
	p := Path(t, "examples/hello_image/apko.lock.json")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Path gave %s: %v", p, err)
	}
}

// Outside a checkout the message says so.
func TestPathOutsideACheckout(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("under bazel test the runfiles tree is searched, not the working directory")
	}
	t.Chdir(t.TempDir())
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { recover() }()
		Path(ft, "go.mod")
	}()
	if want := "not in a rules_wharf checkout"; !strings.Contains(ft.msg, want) {
		t.Fatalf("message %q, want it to say %q", ft.msg, want)
	}
}

type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}
