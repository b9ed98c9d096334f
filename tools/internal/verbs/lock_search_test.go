package verbs

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

// extraRepo writes a second repository for x86_64 under dir/extra: curl with its cmd:,
// so: and pc: provides (as abuild generates them), and busybox-binsh providing /bin/sh
// (as Alpine's does), signed with key.
func extraRepo(t *testing.T, dir string, key *apktest.Key) {
	t.Helper()
	var built []*apktest.Built
	for _, p := range []apktest.Package{
		{Name: "curl", Version: "8.11.1-r0", Provides: []string{"cmd:curl=8.11.1-r0"}},
		{Name: "libcurl", Version: "8.11.1-r0", Provides: []string{"so:libcurl.so.4=4.8.0"}},
		{Name: "curl-dev", Version: "8.11.1-r0", Provides: []string{"pc:libcurl=8.11.1"}},
		{Name: "busybox-binsh", Version: "1.37.0-r0", Provides: []string{"/bin/sh", "cmd:sh=1.37.0-r0"}},
	} {
		p.Arch = "x86_64"
		b, err := apktest.Build(p, key)
		if err != nil {
			t.Fatal(err)
		}
		built = append(built, b)
		writeFile(t, filepath.Join(dir, "extra", "x86_64", p.Name+"-"+p.Version+".apk"), b.APK)
	}
	idx, err := apktest.Index(built, key, "extra")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "extra", "x86_64", "APKINDEX.tar.gz"), idx)
}

// searchFixture serves lockRepo's and extraRepo's repositories over HTTP and writes an
// apko.yaml naming both, locked for x86_64; it returns the configuration and lock paths.
func searchFixture(t *testing.T) (srvURL, config, lock string) {
	t.Helper()
	key, err := apktest.NewKey("repo.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	srvDir := t.TempDir()
	lockRepo(t, srvDir, key, key)
	extraRepo(t, srvDir, key)
	srv := httptest.NewServer(http.FileServer(http.Dir(srvDir)))
	t.Cleanup(srv.Close)
	work := t.TempDir()
	config = filepath.Join(work, "apko.yaml")
	writeFile(t, config, []byte(fmt.Sprintf(`contents:
  keyring: [%[1]s/keys/repo.rsa.pub]
  repositories: [%[1]s/main, %[1]s/extra]
  packages: [app, "busybox<1.37"]
archs: [x86_64]
`, srv.URL)))
	lock = filepath.Join(work, "apko.lock.json")
	return srv.URL, config, lock
}

// search runs `wharf lock ... search TERMS` and returns what it printed.
func searchOut(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := lockVerb(args, &out)
	return out.String(), err
}

// `lock search` answers from the served, verified indexes: cmd:, so:, pc:, plain names,
// globs and paths, each with package, version, architecture, repository and what the lock has.
func TestLockSearch(t *testing.T) {
	url, config, lock := searchFixture(t)
	flags := []string{"--config", config, "--lock", lock}
	out, err := searchOut(t, append(flags, "search", "cmd:sh")...)
	if err != nil || !strings.Contains(out, "apko.lock.json does not exist yet") {
		t.Fatalf("before the lock: %v\n%s", err, out)
	}
	if err := lockVerb(flags, io.Discard); err != nil {
		t.Fatal(err)
	}
	out, err = searchOut(t, append(flags, "search", "cmd:sh", "so:libcurl.so*", "pc:libcurl", "curl", "/usr/bin/cu*", "/bin/sh", "musl")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("\n%s", out)
	for _, want := range [][]string{
		{"QUERY", "PACKAGE", "VERSION", "ARCH", "REPOSITORY", "LOCK"},
		{"cmd:sh", "busybox", "1.37.0-r0", "x86_64", url + "/main", "apko.lock.json has 1.36.1-r9"},
		{"cmd:sh", "toybox", "0.8.11-r0", "x86_64", url + "/main", "not in apko.lock.json"},
		{"cmd:sh", "busybox-binsh", "1.37.0-r0", "x86_64", url + "/extra", "not in apko.lock.json"},
		{"so:libcurl.so*", "libcurl", "8.11.1-r0", "x86_64", url + "/extra", "not in apko.lock.json"},
		{"pc:libcurl", "curl-dev", "8.11.1-r0"},
		{"curl", "curl", "8.11.1-r0", "x86_64", url + "/extra"},
		{"/usr/bin/cu*", "(as", "cmd:cu*)", "curl", "8.11.1-r0"},
		{"/bin/sh", "(as", "cmd:sh)", "busybox-binsh"},
		{"musl", "musl", "1.2.5-r0", "x86_64", url + "/main", "in apko.lock.json"},
	} {
		if !hasRow(out, want) {
			t.Errorf("no row %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "curl-dev  8.11.1-r0  x86_64  "+url+"/extra  not in apko.lock.json\ncurl ") {
		t.Errorf("plain curl matched curl-dev by prefix")
	}
}

// hasRow reports whether a line of out has exactly the fields of want at its start.
func hasRow(out string, want []string) bool {
	for _, l := range strings.Split(out, "\n") {
		f, w := strings.Fields(l), strings.Fields(strings.Join(want, " "))
		if len(f) >= len(w) && strings.Join(f[:len(w)], " ") == strings.Join(w, " ") {
			return true
		}
	}
	return false
}

// What a user reads when search cannot answer.
func TestLockSearchErrors(t *testing.T) {
	url, config, lock := searchFixture(t)
	flags := []string{"--config", config, "--lock", lock}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "cmd:sh", "cmd:nosuch", "so:libnone.so.1"}, "search: no package in " + url + "/extra (x86_64), " + url + "/main (x86_64) matches cmd:nosuch, so:libnone.so.1"},
		{[]string{"search"}, "search: give what to look for: cmd:NAME, so:NAME, pc:NAME, a package name or a path"},
		{[]string{"search", "/etc/motd"}, "search /etc/motd: the repositories' APKINDEX lists no files, only package names and what they provide, and apk-tools and apko answer which package owns a path only for installed packages (apk info --who-owns)"},
		{[]string{"search", "/usr/*/curl"}, "search /usr/*/curl: a glob in a path's directory cannot be searched; glob the file name only (e.g. /usr/bin/cu*)"},
		{[]string{"search", "cmd:[a"}, "search cmd:[a: not a valid glob: syntax error in pattern"},
		{[]string{"resolve", "curl"}, `unexpected argument "resolve": the only subcommand is search (e.g. bazel run //app:lock -- search cmd:curl)`},
		{[]string{"--check", "search", "curl"}, "search does not go with --check"},
	} {
		out, err := searchOut(t, append(append([]string{}, flags...), c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("search %q: %v\nwant %q", c.args, err, c.want)
		}
		if strings.HasPrefix(c.want, "search: no package") && !hasRow(out, []string{"cmd:sh", "busybox"}) {
			t.Errorf("a miss hid the other terms' answers:\n%s", out)
		}
	}
	// An index signed by a key outside the keyring is not searched.
	other, _ := apktest.NewKey("other.rsa.pub")
	dir := t.TempDir()
	key, _ := apktest.NewKey("repo.rsa.pub")
	lockRepo(t, dir, key, other)
	writeFile(t, filepath.Join(dir, "apko.yaml"), []byte("contents:\n  keyring: [./keys/repo.rsa.pub]\n  repositories: [./main]\n  packages: [app]\narchs: [x86_64]\n"))
	_, err := searchOut(t, "--config", filepath.Join(dir, "apko.yaml"), "--lock", filepath.Join(dir, "apko.lock.json"), "search", "cmd:sh")
	if err == nil || !strings.Contains(err.Error(), "repository ./main (x86_64)") || !strings.Contains(err.Error(), `"other.rsa.pub", which is not in the keyring`) {
		t.Fatalf("unverified index: %v", err)
	}
}

// --dev-lock writes a second lock, the configuration plus the dev packages, checked like
// the first; a change of the dev packages makes it stale; neither lock is written when
// either fails.
func TestLockDevVariant(t *testing.T) {
	_, config, lock := searchFixture(t)
	dev := filepath.Join(filepath.Dir(lock), "apko.dev.lock.json")
	flags := []string{"--config", config, "--lock", lock, "--dev-lock", dev, "--dev-package", "curl", "--dev-package", "libcurl"}
	if err := lockVerb(flags, io.Discard); err != nil {
		t.Fatal(err)
	}
	names := func(p string) string {
		_, l := readLockfile(t, p)
		var n []string
		for _, p := range l.Contents.Packages {
			n = append(n, p.Name)
		}
		return strings.Join(n, " ")
	}
	if got, want := names(lock), "musl busybox app"; got != want {
		t.Errorf("lock has %s, want %s", got, want)
	}
	if got, want := names(dev), "musl busybox app curl libcurl"; got != want {
		t.Errorf("dev lock has %s, want %s", got, want)
	}
	check := append([]string{"--check", "--refresh-command", "bazel run //x:lock"}, flags...)
	if err := lockVerb(check, io.Discard); err != nil {
		t.Fatalf("fresh locks reported stale: %v", err)
	}
	changed := append(check[:len(check)-2:len(check)-2], "--dev-package", "curl-dev")
	err := lockVerb(changed, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "apko.dev.lock.json is stale for") ||
		!strings.Contains(err.Error(), "apko.yaml or the appended packages (curl, curl-dev) changed since the lock was written") ||
		strings.Contains(err.Error(), "apko.lock.json is stale") {
		t.Fatalf("changed dev packages: %v", err)
	}
	os.Remove(dev)
	if err := lockVerb(check, io.Discard); err == nil || !strings.Contains(err.Error(), "apko.dev.lock.json is stale for "+config+":\n  - the lock does not exist\nregenerate it with: bazel run //x:lock") {
		t.Fatalf("missing dev lock: %v", err)
	}
	before, _ := os.ReadFile(lock)
	err = lockVerb(append(flags[:4:4], "--dev-lock", dev, "--dev-package", "nosuch"), io.Discard)
	if after, _ := os.ReadFile(lock); err == nil || !bytes.Equal(before, after) {
		t.Fatalf("a failed dev lock: %v (lock rewritten: %v)", err, !bytes.Equal(before, after))
	}
	if _, err := os.Stat(dev); !os.IsNotExist(err) {
		t.Fatal("a dev lock was written despite the error")
	}
	err = lockVerb(append(flags[:4:4], "--dev-package", "toybox"), io.Discard)
	if err == nil || err.Error() != "--dev-package needs --dev-lock (the lock the -dev variant's packages go into)" {
		t.Fatalf("--dev-package alone: %v", err)
	}
}
