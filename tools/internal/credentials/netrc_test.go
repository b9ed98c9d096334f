package credentials

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseNetrc(t *testing.T) {
	n, err := ParseNetrc("n", `# comment
machine apk.example.com login alice password s3cret
machine apk.example.com login second password ignored
machine other.example.com:8443
  login bob
  password pw # trailing comment
macdef init
  cd /pub
  machine not-a-machine login x password y

default login anon password anon@
`)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"apk.example.com":        "alice:s3cret",
		"APK.example.com:443":    "alice:s3cret",
		"other.example.com:8443": "bob:pw",
		"other.example.com":      "anon:anon@",
		"not-a-machine":          "anon:anon@",
	} {
		l, p, ok := n.Lookup(host)
		if !ok || l+":"+p != want {
			t.Errorf("Lookup(%s) = %s:%s %v, want %s", host, l, p, ok, want)
		}
	}
	n, _ = ParseNetrc("n", "machine a login b password c\n")
	if _, _, ok := n.Lookup("other"); ok {
		t.Error("no default, yet other hosts have credentials")
	}
	for text, want := range map[string]string{
		"machine a login":               "/home/u/.netrc:1: `login` has no value on its line",
		"login a password s3cret":       "/home/u/.netrc:1: `login` before any `machine` or `default`",
		"machine a\nuser b pass s3cret": "/home/u/.netrc:2: unknown netrc keyword (want machine, default, login, password, account or macdef)",
	} {
		_, err := ParseNetrc("/home/u/.netrc", text)
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", text, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error shows the secret", text)
		}
	}
}

func TestLoadNetrc(t *testing.T) {
	home := isolate(t)
	if n, err := LoadNetrc(); n != nil || err != nil {
		t.Fatalf("no netrc: %v %v", n, err)
	}
	os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine h login home password p\n"), 0o600)
	if n, err := LoadNetrc(); err != nil || n.Path != filepath.Join(home, ".netrc") {
		t.Fatalf("~/.netrc: %v %v", n, err)
	}
	p := filepath.Join(home, "other-netrc")
	os.WriteFile(p, []byte("machine h login env password p\n"), 0o600)
	t.Setenv("NETRC", p)
	if n, err := LoadNetrc(); err != nil || n.Path != p {
		t.Fatalf("$NETRC: %v %v", n, err)
	}
	t.Setenv("NETRC", p+".missing")
	if _, err := LoadNetrc(); err == nil || err.Error() != "netrc: open "+p+".missing: no such file or directory" {
		t.Fatalf("$NETRC missing: %v", err)
	}
}

// A server that wants alice's basic credentials, or the helper's API key.
func authServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == "alice" && p == "s3cret" || r.Header.Get("X-Api-Key") == "helper-k3y" {
			io.WriteString(w, "content of "+r.URL.Path)
			return
		}
		http.Error(w, "credentials required", http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestTransport(t *testing.T) {
	isolate(t)
	srv := authServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	if code, _ := get(t, &http.Client{Transport: Transport(nil, nil, nil)}, srv.URL+"/x86_64/APKINDEX.tar.gz"); code != 401 {
		t.Fatalf("without credentials: %d", code)
	}
	n, _ := ParseNetrc("n", "machine 127.0.0.1 login alice password s3cret\n")
	if code, err := get(t, &http.Client{Transport: Transport(nil, nil, n)}, srv.URL+"/x86_64/APKINDEX.tar.gz"); code != 200 {
		t.Fatalf("netrc: %d %v", code, err)
	}

	// A helper for the host comes first; it is asked about the URL.
	helper := helperBin(t, "bazel-helper")
	t.Setenv("CREDTEST_MODE", "headers")
	hs := []Helper{{Scope: "127.0.0.1", Path: helper}}
	bad, _ := ParseNetrc("n", "machine "+host+" login alice password wrong\n")
	if code, err := get(t, &http.Client{Transport: Transport(nil, hs, bad)}, srv.URL+"/x86_64/a.apk"); code != 200 {
		t.Fatalf("helper: %d %v", code, err)
	}
	if got := strings.Join(requests(t), " "); got != srv.URL+"/x86_64/a.apk" {
		t.Errorf("helper asked about %s", got)
	}
	// A helper with nothing to give leaves it to netrc; a failing one is an error naming it.
	t.Setenv("CREDTEST_MODE", "none")
	if code, err := get(t, &http.Client{Transport: Transport(nil, hs, n)}, srv.URL+"/b.apk"); code != 200 {
		t.Fatalf("helper without headers, then netrc: %d %v", code, err)
	}
	t.Setenv("CREDTEST_MODE", "fail")
	_, err := get(t, &http.Client{Transport: Transport(nil, hs, n)}, srv.URL+"/c.apk")
	if want := "credential helper 127.0.0.1=" + helper + " for " + srv.URL + "/c.apk: exit status 1: no credentials for " + srv.URL + "/c.apk"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("failing helper: %v\nwant ...%s", err, want)
	}
	empty, _ := ParseNetrc("/home/u/.netrc", "machine 127.0.0.1\n")
	_, err = get(t, &http.Client{Transport: Transport(nil, nil, empty)}, srv.URL+"/d.apk")
	if want := "/home/u/.netrc: the netrc entry for " + host + " has no login or password"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("empty netrc entry: %v", err)
	}
}
