package resolve

import (
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
)

// e builds an index entry: "name version [k=prio] [o=origin] D:dep,dep p:prov,prov i:cond".
func e(spec string) index.IndexEntry {
	f := strings.Fields(spec)
	x := index.IndexEntry{Name: f[0], Version: f[1], Arch: "x86_64"}
	for _, kv := range f[2:] {
		k, v, _ := strings.Cut(kv, ":")
		list := strings.Split(v, ",")
		switch k {
		case "D":
			x.Depends = list
		case "p":
			x.Provides = list
		case "i":
			x.InstallIf = list
		case "k":
			var n int64
			for _, c := range v {
				n = n*10 + int64(c-'0')
			}
			x.ProviderPriority = n
		case "o":
			x.Origin = v
		case "r":
			x.Replaces = list
		}
	}
	return x
}

func repo(name string, specs ...string) *Repository {
	r := &Repository{Name: name}
	for _, s := range specs {
		r.Entries = append(r.Entries, e(s))
	}
	return r
}

func names(res *Result) string {
	var s []string
	for _, p := range res.Packages {
		s = append(s, p.Label())
	}
	return strings.Join(s, " ")
}

func mustResolve(t *testing.T, repos []*Repository, world ...string) string {
	t.Helper()
	res, err := Resolve(repos, world)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", world, err)
	}
	return names(res)
}

func wantErr(t *testing.T, repos []*Repository, want []string, world ...string) {
	t.Helper()
	_, err := Resolve(repos, world)
	if err == nil {
		t.Fatalf("Resolve(%q) succeeded, want error", world)
	}
	t.Logf("Resolve(%q): %v", world, err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

var base = repo("main",
	"musl 1.2.4-r0 p:so:libc.musl-x86_64.so.1=1",
	"musl 1.2.5-r1 p:so:libc.musl-x86_64.so.1=1",
	"busybox 1.36.1-r5 D:so:libc.musl-x86_64.so.1 p:cmd:sh=1.36.1-r5,/bin/sh",
	"busybox 1.37.0-r0 D:so:libc.musl-x86_64.so.1 p:cmd:sh=1.37.0-r0,/bin/sh",
	"zlib 1.3-r0 D:so:libc.musl-x86_64.so.1 p:so:libz.so.1=1.3,pc:zlib=1.3",
	"zlib 1.3.1-r0 D:so:libc.musl-x86_64.so.1 p:so:libz.so.1=1.3.1,pc:zlib=1.3.1",
	"app 2.0-r0 D:busybox,so:libz.so.1",
	"ca-certificates-bundle 20240705-r0",
)

func TestHighestVersionAndOrder(t *testing.T) {
	// Dependencies before dependents; the highest versions.
	if got, want := mustResolve(t, []*Repository{base}, "app"), "musl-1.2.5-r1 busybox-1.37.0-r0 zlib-1.3.1-r0 app-2.0-r0"; got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestConstraintKinds(t *testing.T) {
	for _, c := range []struct{ world, want string }{
		{"busybox", "busybox-1.37.0-r0"},
		{"busybox=1.36.1-r5", "busybox-1.36.1-r5"},
		{"busybox<1.37", "busybox-1.36.1-r5"},
		{"busybox<=1.36.1-r5", "busybox-1.36.1-r5"},
		{"busybox>1.36.1-r5", "busybox-1.37.0-r0"},
		{"busybox>=1.36", "busybox-1.37.0-r0"},
		{"busybox~1.36", "busybox-1.36.1-r5"},
		{"busybox=~1.37", "busybox-1.37.0-r0"},
		{"cmd:sh", "busybox-1.37.0-r0"},
		{"cmd:sh<1.37", "busybox-1.36.1-r5"},
		{"/bin/sh", "busybox-1.37.0-r0"},
		{"so:libc.musl-x86_64.so.1", "musl-1.2.5-r1"},
		{"pc:zlib<1.3.1", "zlib-1.3-r0"},
		{"so:libz.so.1=1.3", "zlib-1.3-r0"}, // 1.3 reads as 0.1.3, as apko reads provides
	} {
		got := mustResolve(t, []*Repository{base}, c.world)
		if !strings.HasSuffix(got, c.want) {
			t.Errorf("%s: got %s, want … %s", c.world, got, c.want)
		}
	}
}

func TestProviderPriority(t *testing.T) {
	r := repo("main",
		"openssl-config 1-r0 p:ssl-config",
		"libressl-config 9-r0 p:ssl-config",
		"libressl-config2 1-r0 k:100 p:ssl-config",
	)
	// Higher priority wins over higher version and over name order.
	if got := mustResolve(t, []*Repository{r}, "ssl-config"); got != "libressl-config2-1-r0" {
		t.Fatalf("got %s", got)
	}
	// Equal priorities: the higher version.
	r.Entries[2].ProviderPriority = 0
	if got := mustResolve(t, []*Repository{r}, "ssl-config"); got != "libressl-config-9-r0" {
		t.Fatalf("got %s", got)
	}
}

func TestEqualCandidatesEarlierRepositoryWins(t *testing.T) {
	a := repo("a", "x 1-r0 o:from-a")
	b := repo("b", "x 1-r0 o:from-b")
	res, err := Resolve([]*Repository{a, b}, []string{"x"})
	if err != nil || res.Packages[0].Repo != a {
		t.Fatalf("%v %v", res, err)
	}
}

func TestPinnedRepository(t *testing.T) {
	main := repo("main", "x 1-r0", "y 1-r0 D:x")
	local := &Repository{Name: "local", Pin: "local", Entries: []index.IndexEntry{e("x 5-r0"), e("w 1-r0"), e("z 1-r0 D:x,w")}}
	if got := mustResolve(t, []*Repository{main, local}, "x"); got != "x-1-r0" {
		t.Fatalf("unpinned: got %s", got)
	}
	if got := mustResolve(t, []*Repository{main, local}, "x@local"); got != "x-5-r0" {
		t.Fatalf("pinned: got %s", got)
	}
	// A pinned package's dependencies may come from its repository too (w), but as in
	// apko, an unpinned candidate is preferred for them (x).
	if got := mustResolve(t, []*Repository{main, local}, "z@local"); got != "w-1-r0 x-1-r0 z-1-r0" {
		t.Fatalf("pinned deps: got %s", got)
	}
	wantErr(t, []*Repository{main, local}, []string{`nothing satisfies "z"`, "z-1-r0 (local): only for @local"}, "z")
}

func TestConflicts(t *testing.T) {
	r := repo("main",
		"a 1-r0 D:!b",
		"b 1-r0",
		"c 1-r0 D:b",
		"d 1-r0 D:a,c",
	)
	// a excludes b; c needs b: a clear error naming the chain.
	wantErr(t, []*Repository{r}, []string{`nothing satisfies "b"`, "d-1-r0", "excluded by !b of a-1-r0"}, "d")
	wantErr(t, []*Repository{r}, []string{"conflicts with"}, "b", "a")
	if got := mustResolve(t, []*Repository{r}, "a"); got != "a-1-r0" {
		t.Fatalf("got %s", got)
	}
	// A world "!name" excludes providers.
	wantErr(t, []*Repository{r}, []string{`nothing satisfies "b"`, "excluded by !b"}, "c", "!b")
}

func TestVersionedProvidesConflict(t *testing.T) {
	r := repo("main",
		"busybox 1.37.0-r0 p:cmd:sh=1.37.0-r0",
		"dash 0.5-r0 p:cmd:sh=0.5-r0",
		"x 1-r0 D:dash,cmd:sh",
	)
	// dash is picked for x, so busybox (another provider of cmd:sh) is ruled out.
	if got := mustResolve(t, []*Repository{r}, "x"); got != "dash-0.5-r0 x-1-r0" {
		t.Fatalf("got %s", got)
	}
	wantErr(t, []*Repository{r}, []string{`nothing satisfies "dash"`, "busybox-1.37.0-r0 already provides cmd:sh"}, "busybox", "dash")
}

// A later requirement that only another provider of a versioned name satisfies: both would
// hold the name, which apk does not allow; b was ruled out when a was chosen.
func TestTwoProvidersOfAVersionedName(t *testing.T) {
	r := repo("main",
		"a 1-r0 p:so:foo=1",
		"b 1-r0 p:so:foo=3",
		"x 1-r0 D:a,y",
		"y 1-r0 D:so:foo>2",
	)
	wantErr(t, []*Repository{r}, []string{`nothing satisfies "so:foo>2"`, "b-1-r0 (main): ruled out: a-1-r0 already provides so:foo"}, "x")
}

func TestReplacesIsNotAConflict(t *testing.T) {
	r := repo("main", "base 1-r0", "motd 1-r0 D:base r:base")
	res, err := Resolve([]*Repository{r}, []string{"motd"})
	if err != nil {
		t.Fatal(err)
	}
	if names(res) != "base-1-r0 motd-1-r0" || res.Packages[1].Replaces[0] != "base" {
		t.Fatalf("got %s", names(res))
	}
}

func TestUnsatisfiable(t *testing.T) {
	wantErr(t, []*Repository{base}, []string{`nothing satisfies "nope"`, `world "nope"`, `no package is or provides "nope"`}, "nope")
	wantErr(t, []*Repository{base}, []string{`nothing satisfies "busybox>2"`, `busybox-1.37.0-r0 (main): ruled out: busybox 1.37.0-r0 does not satisfy "busybox>2" of world`}, "busybox>2")
	r := repo("main", "top 1-r0 D:mid", "mid 1-r0 D:leaf>2", "leaf 1-r0")
	wantErr(t, []*Repository{r}, []string{`nothing satisfies "leaf>2", required by world "top" -> top-1-r0 -> "mid" -> mid-1-r0`, `leaf 1-r0 does not satisfy "leaf>2" of mid-1-r0`}, "top")
	// Two requirements that cannot hold at once.
	r2 := repo("main", "l 1-r0", "l 2-r0", "a 1-r0 D:l=1-r0", "b 1-r0 D:l=2-r0")
	wantErr(t, []*Repository{r2}, []string{`"l=2-r0"`, "does not satisfy"}, "a", "b")
	wantErr(t, []*Repository{base}, []string{`constraint "busybox<>1": operator "<>" compares a package checksum, not a version; write name=version`}, "busybox<>1")
	wantErr(t, []*Repository{base}, []string{`constraint "busybox><Q1abc": operator "><" compares a package checksum`}, "busybox><Q1abc")
	wantErr(t, []*Repository{base}, []string{`constraint "busybox=x1": "x1" is not an apk version`, `invalid at "x1"`}, "busybox=x1")
	wantErr(t, []*Repository{base}, []string{`constraint "busybox=1.0a2": "1.0a2" is not an apk version`, `invalid at "2"`}, "busybox=1.0a2")
	wantErr(t, []*Repository{base}, []string{`constraint "busybox@edge=1@main": two repository tags; write name@tag[op version]`}, "busybox@edge=1@main")
}

func TestCyclesAndSharedDependencies(t *testing.T) {
	r := repo("main",
		"a 1-r0 D:b,c",
		"b 1-r0 D:d",
		"c 1-r0 D:d",
		"d 1-r0 D:a",
	)
	if got := mustResolve(t, []*Repository{r}, "a"); got != "d-1-r0 b-1-r0 c-1-r0 a-1-r0" {
		t.Fatalf("got %s", got)
	}
}

// Among siblings the most constrained dependency goes first (fewest candidates), ties by
// the constraint's text, as in apko.
func TestSiblingOrder(t *testing.T) {
	r := repo("main",
		"top 1-r0 D:zz,aa,mm",
		"zz 1-r0",
		"aa 1-r0", "aa 2-r0",
		"mm 1-r0",
	)
	if got := mustResolve(t, []*Repository{r}, "top"); got != "mm-1-r0 zz-1-r0 aa-2-r0 top-1-r0" {
		t.Fatalf("got %s", got)
	}
	// World order is sorted, whatever the configuration's order.
	if got := mustResolve(t, []*Repository{r}, "zz", "mm", "aa"); got != "aa-2-r0 mm-1-r0 zz-1-r0" {
		t.Fatalf("got %s", got)
	}
}

func TestInstallIf(t *testing.T) {
	r := repo("main", "bash 5-r0", "doc 1-r0", "bash-doc 5-r0 i:bash=5-r0,doc")
	if got := mustResolve(t, []*Repository{r}, "bash"); got != "bash-5-r0" {
		t.Fatalf("got %s", got)
	}
	// Placed before the world package that completes its conditions (doc), as apko does.
	if got := mustResolve(t, []*Repository{r}, "bash", "doc"); got != "bash-5-r0 bash-doc-5-r0 doc-1-r0" {
		t.Fatalf("got %s", got)
	}
}

func TestDeterministic(t *testing.T) {
	first := mustResolve(t, []*Repository{base}, "app", "ca-certificates-bundle", "cmd:sh")
	for i := 0; i < 20; i++ {
		if got := mustResolve(t, []*Repository{base}, "cmd:sh", "app", "ca-certificates-bundle"); got != first {
			t.Fatalf("run %d: %s != %s", i, got, first)
		}
	}
}

func TestFuzzyMatch(t *testing.T) {
	for _, c := range []struct {
		a, r string
		ok   bool
	}{{"1.2", "1.2", true}, {"1.2.3", "1.2", true}, {"1.20", "1.2", false}, {"1.2_rc1", "1.2_rc", true}, {"1.2-r4", "1.2", true}, {"1.2-r4", "1.2-r3", false}, {"1", "1.2", false}} {
		if got := index.VersionFuzzyMatch(c.a, c.r); got != c.ok {
			t.Errorf("VersionFuzzyMatch(%s, %s) = %v", c.a, c.r, got)
		}
	}
}
