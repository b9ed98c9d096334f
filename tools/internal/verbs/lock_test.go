package verbs

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
)

// lockRepo writes a signed repository for x86_64 and aarch64 under dir/main and the
// public key at dir/keys/repo.rsa.pub.
func lockRepo(t *testing.T, dir string, key *apktest.Key, indexKey *apktest.Key) {
	t.Helper()
	for _, arch := range []string{"x86_64", "aarch64"} {
		libc := "so:libc.musl-" + arch + ".so.1"
		pkgs := []apktest.Package{
			{Name: "musl", Version: "1.2.5-r0", Provides: []string{libc + "=1"}},
			{Name: "busybox", Version: "1.36.1-r9", Depends: []string{libc}, Provides: []string{"cmd:sh=1.36.1-r9"}, ProviderPriority: 100},
			{Name: "busybox", Version: "1.37.0-r0", Depends: []string{libc}, Provides: []string{"cmd:sh=1.37.0-r0"}, ProviderPriority: 100},
			{Name: "toybox", Version: "0.8.11-r0", Depends: []string{libc}, Provides: []string{"cmd:sh=0.8.11-r0"}, ProviderPriority: 10},
			{Name: "app", Version: "2.0-r1", Depends: []string{"cmd:sh", libc}, SHA256Signature: true,
				Files: []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/app", Content: "app " + arch}}},
		}
		var built []*apktest.Built
		for _, p := range pkgs {
			p.Arch = arch
			p.Files = append(p.Files, apktest.File{Path: "etc", Dir: true}, apktest.File{Path: "etc/" + p.Name + "-" + p.Version, Content: arch})
			b, err := apktest.Build(p, key)
			if err != nil {
				t.Fatal(err)
			}
			built = append(built, b)
			writeFile(t, filepath.Join(dir, "main", arch, p.Name+"-"+p.Version+".apk"), b.APK)
		}
		idx, err := apktest.Index(built, indexKey, "test")
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "main", arch, "APKINDEX.tar.gz"), idx)
	}
	writeFile(t, filepath.Join(dir, "keys", key.Name), key.PublicPEM())
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The lock verb against a repository served over HTTP by the test: resolution (so:,
// cmd:, provider_priority, a version constraint), then every locked package is fetched
// by its URL and verified with the lock's checksums, by byte range and by apk-verify /
// apk-extract as the build does.
func TestLockOverHTTP(t *testing.T) {
	key, err := apktest.NewKey("repo.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	srvDir := t.TempDir()
	lockRepo(t, srvDir, key, key)
	var requests atomic.Int64
	fileServer := http.FileServer(http.Dir(srvDir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fileServer.ServeHTTP(w, r)
	}))
	defer srv.Close()

	work := t.TempDir()
	config := filepath.Join(work, "apko.yaml")
	writeFile(t, config, []byte(fmt.Sprintf(`contents:
  keyring: [%[1]s/keys/repo.rsa.pub]
  repositories: [%[1]s/main]
  packages: [app, "busybox<1.37"]
archs: [amd64, aarch64]
`, srv.URL)))
	lockPath := filepath.Join(work, "apko.lock.json")
	if err := lockVerb([]string{"--config", config, "--lock", lockPath}, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, l := readLockfile(t, lockPath)
	checkLockEntries(t, l, srv.URL)
	keyFile := filepath.Join(srvDir, "keys", "repo.rsa.pub")
	for i, p := range l.Contents.Packages {
		checkLockedPackage(t, p, filepath.Join(work, fmt.Sprintf("%d.apk", i)), keyFile)
	}

	// Locking again gives the same bytes.
	again := filepath.Join(work, "again.lock.json")
	if err := lockVerb([]string{"--config", config, "--lock", again, "--config-name", "apko.yaml"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(again); string(b2) != string(b) {
		t.Fatal("a second lock differs from the first")
	}
	checkLockCheckOffline(t, config, lockPath, srv.URL, &requests)
}

// readLockfile reads and parses a lock file.
func readLockfile(t *testing.T, p string) ([]byte, *lockfile.Lock) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lockfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return b, l
}

// checkLockEntries: the packages TestLockOverHTTP's lock resolves and its repository,
// keyring and config entries.
func checkLockEntries(t *testing.T, l *lockfile.Lock, srvURL string) {
	t.Helper()
	var got []string
	for _, p := range l.Contents.Packages {
		got = append(got, p.Architecture+":"+p.Name+"-"+p.Version)
	}
	want := "x86_64:musl-1.2.5-r0 x86_64:busybox-1.36.1-r9 x86_64:app-2.0-r1 aarch64:musl-1.2.5-r0 aarch64:busybox-1.36.1-r9 aarch64:app-2.0-r1"
	if strings.Join(got, " ") != want {
		t.Fatalf("locked %s\nwant   %s", strings.Join(got, " "), want)
	}
	host := strings.TrimPrefix(srvURL, "http://")
	if r := l.Contents.Repositories[1]; r.Name != host+"/main/aarch64" || r.URL != srvURL+"/main/aarch64/APKINDEX.tar.gz" || r.Architecture != "aarch64" {
		t.Fatalf("repository entry %+v", r)
	}
	if k := l.Contents.Keyring[0]; k.URL != srvURL+"/keys/repo.rsa.pub" || k.Name != host+"/keys/repo.rsa.pub" {
		t.Fatalf("keyring entry %+v", k)
	}
	if l.Config == nil || l.Config.Name != "apko.yaml" || !strings.HasPrefix(l.Config.Checksum, "sha256-") {
		t.Fatalf("config %+v", l.Config)
	}
}

// checkLockedPackage fetches a locked package by its URL into apkFile and checks it with the
// lock's checksums, by byte range and by apk-verify / apk-extract as the build does.
func checkLockedPackage(t *testing.T, p lockfile.Package, apkFile, keyFile string) {
	t.Helper()
	resp, err := http.Get(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	apkBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkRanges(t, p, apkBytes)
	writeFile(t, apkFile, apkBytes)
	out := t.TempDir()
	if err := apkVerify([]string{"--name", p.Name, "--version", p.Version, "--arch", p.Architecture, "--part", apkFile,
		"--control-checksum", p.Control.Checksum, "--key", keyFile, "--out", filepath.Join(out, "verify.json")}); err != nil {
		t.Fatalf("apk-verify %s: %v", p.Label(), err)
	}
	if err := apkExtract([]string{"--name", p.Name, "--version", p.Version, "--arch", p.Architecture, "--part", apkFile,
		"--control-checksum", p.Control.Checksum, "--data-checksum", p.Data.Checksum,
		"--blob", filepath.Join(out, "blob"), "--metadata", filepath.Join(out, "meta.json"), "--facts", filepath.Join(out, "facts.json")}); err != nil {
		t.Fatalf("apk-extract %s: %v", p.Label(), err)
	}
}

// checkRanges: each range holds exactly the bytes its checksum names, and the ranges tile
// the file.
func checkRanges(t *testing.T, p lockfile.Package, apkBytes []byte) {
	t.Helper()
	var next int64
	for _, s := range []lockfile.Range{p.Signature, p.Control, p.Data} {
		from, to, err := lockfile.ParseRange(s.Range)
		if err != nil || from != next || to >= int64(len(apkBytes)) {
			t.Fatalf("%s: range %q (next %d, size %d): %v", p.Label(), s.Range, next, len(apkBytes), err)
		}
		next = to + 1
		part := apkBytes[from : to+1]
		var sum string
		if strings.HasPrefix(s.Checksum, "sha256-") {
			d := sha256.Sum256(part)
			sum = "sha256-" + base64.StdEncoding.EncodeToString(d[:])
		} else {
			d := sha1.Sum(part)
			sum = "sha1-" + base64.StdEncoding.EncodeToString(d[:])
		}
		if sum != s.Checksum {
			t.Fatalf("%s: range %s has %s, lock says %s", p.Label(), s.Range, sum, s.Checksum)
		}
	}
	if next != int64(len(apkBytes)) || p.Checksum != "Q1"+strings.TrimPrefix(p.Control.Checksum, "sha1-") {
		t.Fatalf("%s: ranges end at %d of %d; checksum %s", p.Label(), next, len(apkBytes), p.Checksum)
	}
}

// checkLockCheckOffline: --check needs no network: it passes for the fresh lock, and fails
// with what changed and how to refresh once the configuration changes.
func checkLockCheckOffline(t *testing.T, config, lockPath, srvURL string, requests *atomic.Int64) {
	t.Helper()
	before := requests.Load()
	if err := lockVerb([]string{"--config", config, "--lock", lockPath, "--check"}, io.Discard); err != nil {
		t.Fatalf("fresh lock reported stale: %v", err)
	}
	writeFile(t, config, []byte(fmt.Sprintf(`contents:
  keyring: [%[1]s/keys/repo.rsa.pub]
  repositories: [%[1]s/main]
  packages: [app, "busybox>=1.37", toybox]
archs: [amd64]
`, srvURL)))
	err := lockVerb([]string{"--config", config, "--lock", lockPath, "--check", "--refresh-command", "bazel run //x:lock"}, io.Discard)
	for _, w := range []string{"is stale for", "apko.yaml changed since the lock was written", "architectures: lock has [x86_64, aarch64], configuration has [x86_64]",
		`x86_64: the lock has busybox-1.36.1-r9 (x86_64), which does not satisfy "busybox>=1.37"`, "regenerate it with: bazel run //x:lock"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("--check error %v\nlacks %q", err, w)
		}
	}
	if requests.Load() != before {
		t.Fatalf("--check made %d requests", requests.Load()-before)
	}
}

// An index signed by a key outside the keyring fails, naming the repository.
func TestLockRejectsUnverifiedIndex(t *testing.T) {
	key, _ := apktest.NewKey("repo.rsa.pub")
	other, _ := apktest.NewKey("other.rsa.pub")
	dir := t.TempDir()
	lockRepo(t, dir, key, other)
	writeFile(t, filepath.Join(dir, "apko.yaml"), []byte("contents:\n  keyring: [./keys/repo.rsa.pub]\n  repositories: [./main]\n  packages: [app]\narchs: [x86_64]\n"))
	err := lockVerb([]string{"--config", filepath.Join(dir, "apko.yaml"), "--lock", filepath.Join(dir, "apko.lock.json")}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "repository ./main (x86_64)") || !strings.Contains(err.Error(), `"other.rsa.pub", which is not in the keyring`) {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "apko.lock.json")); !os.IsNotExist(err) {
		t.Fatal("a lock was written despite the error")
	}
}

// A repository behind basic auth: refused without credentials, with a message saying where
// they go; locked with them from $NETRC; and a wrong password is named as refused.
func TestLockBasicAuthRepository(t *testing.T) {
	key, err := apktest.NewKey("repo.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	srvDir := t.TempDir()
	lockRepo(t, srvDir, key, key)
	var authed atomic.Int64
	fileServer := http.FileServer(http.Dir(srvDir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		authed.Add(1)
		fileServer.ServeHTTP(w, r)
	}))
	defer srv.Close()
	work := t.TempDir()
	t.Setenv("HOME", work)
	t.Setenv("WHARF_CREDENTIAL_HELPERS", "")
	config := filepath.Join(work, "apko.yaml")
	writeFile(t, config, []byte(fmt.Sprintf("contents:\n  keyring: [%[1]s/keys/repo.rsa.pub]\n  repositories: [%[1]s/main]\n  packages: [app]\narchs: [amd64]\n", srv.URL)))
	lockPath := filepath.Join(work, "apko.lock.json")
	err = lockVerb([]string{"--config", config, "--lock", lockPath}, io.Discard)
	want := "keyring " + srv.URL + "/keys/repo.rsa.pub: GET " + srv.URL + "/keys/repo.rsa.pub: 401 Unauthorized: the repository wants credentials, and none were sent: give them in ~/.netrc ($NETRC) as `machine 127.0.0.1 login USER password PASSWORD`, or with a Bazel credential helper (--credential_helper, $WHARF_CREDENTIAL_HELPERS)"
	if err == nil || err.Error() != want {
		t.Fatalf("without credentials: %v\nwant %s", err, want)
	}
	netrc := filepath.Join(work, "netrc")
	t.Setenv("NETRC", netrc)
	writeFile(t, netrc, []byte("machine 127.0.0.1 login alice password wrong\n"))
	err = lockVerb([]string{"--config", config, "--lock", lockPath}, io.Discard)
	want = "keyring " + srv.URL + "/keys/repo.rsa.pub: GET " + srv.URL + "/keys/repo.rsa.pub: 401 Unauthorized: the repository wants credentials, and the credentials sent (from the credential helper or netrc entry for " + strings.TrimPrefix(srv.URL, "http://") + ") were refused"
	if err == nil || err.Error() != want {
		t.Fatalf("wrong password: %v\nwant %s", err, want)
	}
	if _, statErr := os.Stat(lockPath); statErr == nil {
		t.Fatal("a failed lock left a lock file")
	}
	writeFile(t, netrc, []byte("machine 127.0.0.1 login alice password s3cret\n"))
	if err := lockVerb([]string{"--config", config, "--lock", lockPath}, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lockfile.Parse(b)
	if err != nil || len(l.Contents.Packages) != 3 || authed.Load() < 5 {
		t.Fatalf("lock %+v %v; %d authorized requests", l, err, authed.Load())
	}
	// A helper flag that is not a path Bazel would take is refused, naming the flag.
	err = lockVerb([]string{"--config", config, "--lock", lockPath, "--credential_helper", "rel/helper"}, io.Discard)
	if want := `--credential_helper: credential helper "rel/helper": the path must be absolute, %workspace%/..., or a program name on PATH`; err == nil || err.Error() != want {
		t.Fatalf("bad helper: %v", err)
	}
}

// `wharf lock` writes into the user's workspace, where a file named like its temporary is
// the user's: it survives the lock being written.
func TestLockKeepsFilesNamedLikeItsTemporary(t *testing.T) {
	key, _ := apktest.NewKey("repo.rsa.pub")
	dir := t.TempDir()
	lockRepo(t, dir, key, key)
	writeFile(t, filepath.Join(dir, "apko.yaml"), []byte("contents:\n  keyring: [./keys/repo.rsa.pub]\n  repositories: [./main]\n  packages: [app]\narchs: [x86_64]\n"))
	users := filepath.Join(dir, ".apko.lock.json.tmp-draft")
	writeFile(t, users, []byte("the user's draft"))
	if err := lockVerb([]string{"--config", filepath.Join(dir, "apko.yaml"), "--lock", filepath.Join(dir, "apko.lock.json")}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(users); err != nil || string(b) != "the user's draft" {
		t.Fatalf("%s after wharf lock: %q, %v", users, b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "apko.lock.json")); err != nil {
		t.Fatal(err)
	}
}

// A repository URL with userinfo: the download uses it, the lock does not record it (the
// build takes credentials from netrc or a credential helper, which the one note says), and
// no message quotes the password.
func TestLockKeepsURLCredentialsOutOfTheLockAndMessages(t *testing.T) {
	const secret = "s3cr3t-TOKEN-5"
	key, _ := apktest.NewKey("repo.rsa.pub")
	srvDir := t.TempDir()
	lockRepo(t, srvDir, key, key)
	fileServer := http.FileServer(http.Dir(srvDir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); strings.HasPrefix(r.URL.Path, "/main/") && (!ok || u != "alice" || p != secret) {
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		fileServer.ServeHTTP(w, r)
	}))
	defer srv.Close()
	work := t.TempDir()
	t.Setenv("HOME", work)
	t.Setenv("NETRC", "")
	t.Setenv("WHARF_CREDENTIAL_HELPERS", "")
	host := strings.TrimPrefix(srv.URL, "http://")
	config := filepath.Join(work, "apko.yaml")
	lockPath := filepath.Join(work, "apko.lock.json")
	writeConfig := func(userinfo string) {
		writeFile(t, config, []byte(fmt.Sprintf("contents:\n  keyring: [%[1]s/keys/repo.rsa.pub]\n  repositories: [\"http://%[2]s@%[3]s/main\"]\n  packages: [app]\narchs: [amd64]\n", srv.URL, userinfo, host)))
	}
	writeConfig("alice:" + secret)
	var log strings.Builder
	if err := lockVerb([]string{"--config", config, "--lock", lockPath}, &log); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(lockPath)
	if strings.Contains(string(b), secret) || strings.Contains(string(b), "alice") {
		t.Fatalf("the lock records the credentials:\n%s", b)
	}
	l, err := lockfile.Parse(b)
	if err != nil || l.Contents.Repositories[0].URL != srv.URL+"/main/x86_64/APKINDEX.tar.gz" || !strings.HasPrefix(l.Contents.Packages[0].URL, srv.URL+"/main/x86_64/") {
		t.Fatalf("lock %+v, %v", l, err)
	}
	note := config + ": the credentials in http://alice:***@" + host + "/main were used to lock but are not written into the lock; builds fetch with those of ~/.netrc ($NETRC), as `machine 127.0.0.1 login USER password PASSWORD`, or of a Bazel credential helper (--credential_helper)\n"
	if log.String() != note {
		t.Fatalf("log %q\nwant %q", log.String(), note)
	}
	if err := lockVerb([]string{"--config", config, "--lock", lockPath, "--check"}, io.Discard); err != nil {
		t.Fatalf("--check of the fresh lock: %v", err)
	}
	// A lock that records them (apko writes them) is stale, and --check masks them.
	writeFile(t, lockPath, []byte(strings.ReplaceAll(string(b), host+"/main", "alice:"+secret+"@"+host+"/main"))) // names and URLs
	err = lockVerb([]string{"--config", config, "--lock", lockPath, "--check"}, io.Discard)
	if want := "the lock records credentials in its URLs (http://alice:***@" + host + "/main/x86_64/APKINDEX.tar.gz): a lock is shared, so they belong in ~/.netrc or a Bazel credential helper; regenerating the lock drops them"; err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "regenerate it with") {
		t.Fatalf("--check of a lock with credentials: %v\nwant %s", err, want)
	}

	// Refused credentials and a user-name token: the messages mask them.
	for userinfo, want := range map[string]string{
		"alice:wr0ng-" + secret: "repository http://alice:***@" + host + "/main (x86_64): GET http://alice:***@" + host + "/main/x86_64/APKINDEX.tar.gz: 401 Unauthorized: the repository wants credentials, and the credentials in the URL were refused",
		secret:                  "repository http://***@" + host + "/main (x86_64): GET http://***@" + host + "/main/x86_64/APKINDEX.tar.gz: 401 Unauthorized: the repository wants credentials, and the credentials in the URL were refused",
	} {
		writeConfig(userinfo)
		log.Reset()
		err := lockVerb([]string{"--config", config, "--lock", lockPath}, &log)
		if err == nil || err.Error() != want {
			t.Errorf("with %s: %v\nwant %s", userinfo, err, want)
		}
		if err != nil && strings.Contains(err.Error()+log.String(), secret) {
			t.Errorf("the secret is printed: %v\n%s", err, log.String())
		}
	}
}
