package registrytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func digest(b string) string {
	sum := sha256.Sum256([]byte(b))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// uploadBlob starts an upload and PUTs the whole blob to it, returning the PUT's result.
func uploadBlob(t *testing.T, c *http.Client, r *Registry, repo, blob string) (*http.Response, error) {
	t.Helper()
	resp, err := c.Post("http://"+r.Host+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST upload: %s", resp.Status)
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+r.Host+resp.Header.Get("Location")+"?digest="+digest(blob), strings.NewReader(blob))
	resp, err = c.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestFaults(t *testing.T) {
	r := New(t)
	c := http.DefaultClient
	var seen []Upload
	faults := map[string]Fault{digest("500"): Status500, digest("reset"): Reset, digest("lost"): Lost, digest("stall"): Stall}
	r.Faults(func(u Upload) Fault {
		seen = append(seen, u)
		if u.N > 1 {
			return None
		}
		return faults[u.Digest]
	})

	if resp, err := uploadBlob(t, c, r, "a", "500"); err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("500: %v %v", resp, err)
	}
	if _, err := uploadBlob(t, c, r, "a", "reset"); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("reset: %v", err)
	}
	if _, err := uploadBlob(t, c, r, "a", "lost"); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("lost: %v", err)
	}
	start := time.Now()
	if _, err := uploadBlob(t, &http.Client{Timeout: time.Second}, r, "a", "stall"); err == nil || time.Since(start) < time.Second {
		t.Errorf("stall answered after %v: %v", time.Since(start), err)
	}
	for blob, held := range map[string]bool{"500": false, "reset": false, "lost": true, "stall": false} {
		if r.HasBlob("a", digest(blob)) != held {
			t.Errorf("blob %q held: %v, want %v", blob, !held, held)
		}
	}
	// Each fault fires once per blob: the second try goes through.
	if resp, err := uploadBlob(t, c, r, "a", "500"); err != nil || resp.StatusCode != http.StatusCreated || !r.HasBlob("a", digest("500")) {
		t.Errorf("second try: %v %v", resp, err)
	}
	if n := len(r.Injected()); n != 4 {
		t.Errorf("injected %v, want one of each fault", r.Injected())
	}
	if len(seen) != 10 || seen[0] != (Upload{Method: "POST", Kind: "blob", N: 1, Repo: "a"}) ||
		seen[9] != (Upload{Method: "PUT", Kind: "blob", Digest: digest("500"), N: 2, Repo: "a"}) {
		t.Errorf("rule saw %+v", seen)
	}
}

func TestRequireAuth(t *testing.T) {
	r := New(t)
	r.RequireAuth("u", "p")
	resp, err := http.Get("http://" + r.Host + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("without credentials: %s, challenge %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.Host+"/v2/", nil)
	req.SetBasicAuth("u", "p")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with credentials: %s", resp.Status)
	}
}

func TestMissing(t *testing.T) {
	r := New(t)
	if _, err := uploadBlob(t, http.DefaultClient, r, "a", "config"); err != nil {
		t.Fatal(err)
	}
	put := func(mediaType, body string) string {
		req, _ := http.NewRequest(http.MethodPut, "http://"+r.Host+"/v2/a/manifests/"+digest(body), strings.NewReader(body))
		req.Header.Set("Content-Type", mediaType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT manifest: %s", resp.Status)
		}
		return digest(body)
	}
	// The in-memory registry takes an image manifest whose layer it does not hold.
	img := put("application/vnd.oci.image.manifest.v1+json", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"`+digest("config")+`","size":6},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"`+digest("layer")+`","size":5}]}`)
	idx := put("application/vnd.oci.image.index.v1+json", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",`+
		`"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"`+img+`","size":1}]}`)
	if got := r.Missing("a", idx); len(got) != 1 || got[0] != "blob "+digest("layer") {
		t.Errorf("index missing %v, want the layer", got)
	}
	if !r.HasManifest("a", img) || r.HasManifest("a", digest("other")) || r.Missing("a", digest("other")) != nil {
		t.Error("HasManifest or Missing of an absent manifest")
	}
}

func TestRequireToken(t *testing.T) {
	r := New(t)
	r.RequireToken("u", "p", "tok")
	get := func(path, auth string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+r.Host+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := get("/v2/", "")
	if want := `Bearer realm="http://` + r.Host + `/token",service="registrytest"`; resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("without a token: %s, challenge %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	token := func() string {
		req, _ := http.NewRequest(http.MethodGet, "http://"+r.Host+"/token", nil)
		req.SetBasicAuth("u", "p")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&body)
		return body.Token
	}
	tok := token()
	if tok != "tok-1" || get("/v2/", "Bearer "+tok).StatusCode != http.StatusOK {
		t.Fatalf("token %q not accepted", tok)
	}
	// An Expire fault answers 401 and invalidates the token; a new one works.
	r.Faults(func(u Upload) Fault {
		if u.Method == http.MethodPost {
			return Expire
		}
		return None
	})
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.Host+"/v2/a/blobs/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expire: %v %v", resp, err)
	}
	if get("/v2/", "Bearer "+tok).StatusCode != http.StatusUnauthorized || get("/v2/", "Bearer "+token()).StatusCode != http.StatusOK {
		t.Error("the expired token still works, or a new one does not")
	}
}

func TestDeniedAndDropped(t *testing.T) {
	r := New(t)
	r.Faults(func(u Upload) Fault {
		switch {
		case u.Kind == "manifest" && u.Ref == "v1":
			return Denied
		case u.Digest == digest("dropped"):
			return Drop
		case u.Digest == digest("wrong"):
			return WrongDigest
		}
		return None
	})
	req, _ := http.NewRequest(http.MethodPut, "http://"+r.Host+"/v2/a/manifests/v1", strings.NewReader("{}"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("denied tag: %v %v", resp, err)
	}
	for blob, answer := range map[string]string{"dropped": digest("dropped"), "wrong": digest(digest("wrong"))} {
		resp, err := uploadBlob(t, http.DefaultClient, r, "a", blob)
		if err != nil || resp.StatusCode != http.StatusCreated || resp.Header.Get("Docker-Content-Digest") != answer {
			t.Errorf("%s: %v %v, want 201 with digest %s", blob, resp, err, answer)
		}
		if r.HasBlob("a", digest(blob)) {
			t.Errorf("%s: the registry holds the blob", blob)
		}
	}
}
