//go:build e2e

package resolve

// Resolution against a real repository index (Alpine 3.16 x86_64 main, 4000+ packages,
// shipped in chainguard.dev/apko v1.2.39's module and read through the Go module cache):
//
//	go test -tags e2e -run TestResolveRealIndex ./tools/internal/apk/resolve/

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
)

func TestResolveRealIndex(t *testing.T) {
	modDir := apkooracle.ModuleDir(t)
	f, err := os.Open(filepath.Join(modDir, "pkg", "apk", "apk", "testdata", "alpine-316", "APKINDEX.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := index.ParseIndex(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	repo := &Repository{Name: "alpine-316", Entries: idx.Entries}
	for _, world := range [][]string{
		{"alpine-base"},
		{"busybox", "cmd:sh"},
		{"python3"},
		{"bash", "coreutils", "so:libc.musl-x86_64.so.1"},
		{"openssl>1.1.1", "ca-certificates", "!libressl"},
		{"git", "openssh-client"},
	} {
		checkRealResolution(t, repo, world)
	}
	// What alpine-base must bring.
	res, _ := Resolve([]*Repository{repo}, []string{"alpine-base"})
	for _, w := range []string{"musl-", "busybox-", "alpine-baselayout-", "apk-tools-", "alpine-base-"} {
		if !strings.Contains(" "+names(res), " "+w) {
			t.Errorf("alpine-base without %s*: %s", w, names(res))
		}
	}
}

// checkRealResolution: the world resolves deterministically, each package once, the world
// satisfied, and every dependency satisfied by a package before it (or in its cycle) and
// no conflict resolved.
func checkRealResolution(t *testing.T, repo *Repository, world []string) {
	t.Helper()
	res, err := Resolve([]*Repository{repo}, world)
	if err != nil {
		t.Fatalf("%v: %v", world, err)
	}
	again, _ := Resolve([]*Repository{repo}, world)
	if names(again) != names(res) {
		t.Fatalf("%v: not deterministic", world)
	}
	pos := map[string]int{}
	for i, p := range res.Packages {
		if _, dup := pos[p.Name]; dup {
			t.Fatalf("%v: %s twice", world, p.Name)
		}
		pos[p.Name] = i
	}
	r := resolved{res}
	for _, w := range world {
		c, _ := ParseConstraint(w)
		if (r.provider(c) >= 0) == c.Conflict {
			t.Errorf("%v: world %q not satisfied", world, w)
		}
	}
	for i, p := range res.Packages {
		for _, d := range p.Depends {
			c, err := ParseConstraint(d)
			if err != nil {
				t.Fatal(err)
			}
			q := r.provider(c)
			switch {
			case c.Conflict && q >= 0 && q != i:
				t.Errorf("%v: %s conflicts with %s", world, p.Label(), res.Packages[q].Label())
			case c.Conflict:
			case q < 0:
				t.Errorf("%v: %s depends on %q, which nothing resolved satisfies", world, p.Label(), d)
			case q > i && !r.reaches(q, i, map[int]bool{}):
				t.Errorf("%v: %s comes before its dependency %s", world, p.Label(), res.Packages[q].Label())
			}
		}
	}
	t.Logf("%v: %d packages: %s", world, len(res.Packages), names(res))
}

// resolved answers questions about a resolution's packages.
type resolved struct{ *Result }

// provider returns the position of the resolved package satisfying c, or -1.
func (r resolved) provider(c Constraint) int {
	for i, p := range r.Packages {
		if c.Matches(p.Name, p.Version, p.Provides) {
			return i
		}
	}
	return -1
}

// reaches reports whether from depends (transitively) on the package at to.
func (r resolved) reaches(from, to int, seen map[int]bool) bool {
	if from == to {
		return true
	}
	if seen[from] {
		return false
	}
	seen[from] = true
	for _, d := range r.Packages[from].Depends {
		c, _ := ParseConstraint(d)
		if q := r.provider(c); !c.Conflict && q >= 0 && r.reaches(q, to, seen) {
			return true
		}
	}
	return false
}
