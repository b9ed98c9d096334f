package push

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// assertRedacted fails unless msg lacks the planted secret and holds every one of want.
func assertRedacted(t *testing.T, what, msg string, want ...string) {
	t.Helper()
	t.Logf("%s: %s", what, msg)
	if strings.Contains(msg, plantedSecret) {
		t.Errorf("%s holds the secret: %s", what, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// A remote cache URL's userinfo (a password, or a token as the user name) is masked in
// every message that names the cache.
func TestRemoteCacheURLRedacted(t *testing.T) {
	for _, c := range []struct {
		rc   RemoteCache
		want string
	}{
		{RemoteCache{URL: "http://user:" + plantedSecret + "@ca che/x"}, `remote cache "http://user:***@ca che/x": parse "http://user:***@ca che/x": invalid character`},
		{RemoteCache{URL: "ftp://user:" + plantedSecret + "@cache"}, `remote cache ftp://user:***@cache: scheme "ftp" is none of`},
		{RemoteCache{URL: "unix://" + plantedSecret + "@/run/cache.sock"}, "remote cache unix://***@/run/cache.sock: unix sockets are not supported"},
		{RemoteCache{URL: plantedSecret + "@cache", TLSCert: "c.pem"}, "remote cache grpcs://***@cache: tls_client_certificate and tls_client_key go together"},
	} {
		_, err := NewRemoteCacheSource(c.rc)
		if err == nil {
			t.Fatalf("%+v: no error", c.rc)
		}
		assertRedacted(t, "error", err.Error(), c.want)
	}

	d, _ := v1.NewHash("sha256:" + strings.Repeat("0", 64))
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer refuse.Close()
	host := strings.TrimPrefix(refuse.URL, "http://")
	for url, want := range map[string]string{
		"http://user:" + plantedSecret + "@" + host:     "GET http://user:***@" + host + "/cas/" + d.Hex + ": 500",
		"http://" + plantedSecret + "@127.0.0.1:1/x":    "***@127.0.0.1:1/x",
		"grpc://" + plantedSecret + "@127.0.0.1:1":      "***@127.0.0.1:1",
		"grpc://user:" + plantedSecret + "@127.0.0.1:1": "user:***@127.0.0.1:1",
	} {
		src, err := NewRemoteCacheSource(RemoteCache{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		assertRedacted(t, "the source's name", src.String(), "remote cache ")
		_, err = src.Open(context.Background(), v1.Descriptor{Digest: d, Size: 1})
		if err == nil {
			t.Fatalf("%s: Open succeeded", strings.ReplaceAll(url, plantedSecret, "***"))
		}
		assertRedacted(t, "Open's error", err.Error(), want)
	}
}

// The list of places a blob found nowhere was looked for names the cache without its
// userinfo.
func TestPushBlobFoundNowhereRedactsCache(t *testing.T) {
	host := newRegistry(t)
	cache := newGRPCCache(t)
	b := newBuilt(t, randomImage(t, 1))
	url := strings.Replace(cache.url, "://", "://user:"+plantedSecret+"@", 1)
	src, err := NewRemoteCacheSource(RemoteCache{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Push(context.Background(), []Request{b.request(t, host+"/app")}, Options{Keychain: authn.NewMultiKeychain(), Sources: []Source{src}})
	if err == nil {
		t.Fatal("push of a blob found nowhere succeeded")
	}
	assertRedacted(t, "error", err.Error(), "found nowhere",
		"remote cache "+strings.Replace(cache.url, "://", "://user:***@", 1)+": not found (Blob not found")
}
