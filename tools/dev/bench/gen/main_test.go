package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// lockPackages returns the name=version of each package of the lock at path.
func lockPackages(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Contents struct {
			Packages []struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range l.Contents.Packages {
		out = append(out, p.Name+"="+p.Version)
	}
	return out
}

func TestScaleLocksShareTheirFirstPackages(t *testing.T) {
	out := t.TempDir()
	s := repoShape{packages: 12, payload: 12 << 10, locks: 2, shared: 8}
	if err := writePackages(out, s); err != nil {
		t.Fatal(err)
	}
	l0 := lockPackages(t, filepath.Join(out, "locks", "lock_0.json"))
	l1 := lockPackages(t, filepath.Join(out, "locks", "lock_1.json"))
	changed := lockPackages(t, filepath.Join(out, "locks", "lock_0.changed.json"))
	if len(l0) != 10 || len(l1) != 10 {
		t.Fatalf("locks of %d and %d packages, want 8 shared + 2 own = 10", len(l0), len(l1))
	}
	if !reflect.DeepEqual(l0[:8], l1[:8]) || reflect.DeepEqual(l0[8:], l1[8:]) {
		t.Errorf("want the first 8 packages shared and the last 2 each lock's own: %v, %v", l0, l1)
	}
	for i := range l0 {
		want := l0[i]
		if i == s.changed() {
			want = strings.Replace(want, "-r0", "-r1", 1)
		}
		if changed[i] != want {
			t.Errorf("changed lock, package %d: %s, want %s", i, changed[i], want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "repo", "x86_64", "bench-pkg-006-1.0.0-r1.apk")); err != nil {
		t.Errorf("the changed package is not in the repository: %v", err)
	}
}

func TestShapeRefusals(t *testing.T) {
	for _, c := range []struct {
		s    repoShape
		want string
	}{
		{repoShape{packages: 100, shared: 40}, "-packages 100 -shared 40: want the changed package (50, half of -packages) among the shared ones"},
		{repoShape{packages: 10, shared: 11}, "-packages 10 -shared 11: want the changed package (5, half of -packages) among the shared ones"},
		{repoShape{packages: 100, shared: 98, locks: 5}, "-locks 5: 2 packages are not shared, want one for each lock at least"},
	} {
		err := writePackages(t.TempDir(), c.s)
		if err == nil || err.Error() != c.want {
			t.Errorf("%+v: error %v, want %q", c.s, err, c.want)
		}
	}
}
