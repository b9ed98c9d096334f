package push

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// built is an image as a build leaves it: manifest and config files, layer metadata
// files, and the layer blobs, which a test puts where it wants them.
type built struct {
	dir    string
	digest v1.Hash
	plan   string
	blobs  map[v1.Hash][]byte
	layers []v1.Hash
}

// newBuilt writes image's files and a plan for it into a new directory; the layer blobs are
// not written (see putLocal, and the caches' put). extra are more plan lines.
func newBuilt(t *testing.T, img v1.Image, extra ...string) *built {
	t.Helper()
	dir := t.TempDir()
	b := &built{dir: dir, blobs: map[v1.Hash][]byte{}}
	write := func(n string, data []byte) string {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	raw, _ := img.RawManifest()
	cfg, _ := img.RawConfigFile()
	b.digest, _ = img.Digest()
	mt, _ := img.MediaType()
	desc, _ := json.Marshal(v1.Descriptor{MediaType: mt, Digest: b.digest, Size: int64(len(raw))})
	lines := []string{"--label=//t:push", "--descriptor=" + write("desc.json", desc),
		"--json=" + write("manifest.json", raw), "--json=" + write("config.json", cfg)}
	ls, _ := img.Layers()
	for i, l := range ls {
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		size, _ := l.Size()
		rc, _ := l.Compressed()
		data, _ := io.ReadAll(rc)
		b.blobs[d] = data
		b.layers = append(b.layers, d)
		meta := (&layer.Metadata{MediaType: layer.MediaTypeGzip, Digest: d.String(), Size: size, DiffID: diff.String()}).Marshal()
		lines = append(lines, fmt.Sprintf("--layer=%s=%s", filepath.Join("out", d.Hex), write(fmt.Sprintf("l%d.json", i), meta)))
	}
	b.plan = write("push.plan", []byte(strings.Join(append(lines, extra...), "\n")+"\n"))
	return b
}

// putLocal writes layer d where the plan says the output tree has it (execroot b.dir).
func (b *built) putLocal(t *testing.T, d v1.Hash) {
	t.Helper()
	os.MkdirAll(filepath.Join(b.dir, "out"), 0o755)
	if err := os.WriteFile(filepath.Join(b.dir, "out", d.Hex), b.blobs[d], 0o644); err != nil {
		t.Fatal(err)
	}
}

func (b *built) request(t *testing.T, repo string, tags ...string) Request {
	t.Helper()
	target, err := ReadPlan(b.plan, b.dir, b.dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	return Request{Target: target, Repository: r, Tags: tags}
}

func randomImage(t *testing.T, layers int) v1.Image {
	t.Helper()
	img, err := random.Image(2048, int64(layers))
	if err != nil {
		t.Fatal(err)
	}
	return mutate.MediaType(img, types.OCIManifestSchema1)
}

// grpcCache is a REAPI ByteStream Read server over h2c holding blobs by sha256, counting
// the bytes it serves.
type grpcCache struct {
	mu     sync.Mutex
	blobs  map[string][]byte // "blobs/<hex>/<size>" with the instance name prefix
	served atomic.Int64
	url    string
	header http.Header // of the last request
}

func newGRPCCache(t *testing.T) *grpcCache {
	c := &grpcCache{blobs: map[string][]byte{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &p
	srv.Start()
	t.Cleanup(srv.Close)
	c.url = "grpc://" + strings.TrimPrefix(srv.URL, "http://")
	return c
}

func (c *grpcCache) put(instance string, data []byte) {
	d, size, _ := v1.SHA256(strings.NewReader(string(data)))
	key := fmt.Sprintf("blobs/%s/%d", d.Hex, size)
	if instance != "" {
		key = instance + "/" + key
	}
	c.mu.Lock()
	c.blobs[key] = data
	c.mu.Unlock()
}

func (c *grpcCache) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.header = r.Header.Clone()
	c.mu.Unlock()
	if r.ProtoMajor != 2 || r.URL.Path != byteStreamRead || r.Header.Get("Content-Type") != "application/grpc" {
		http.Error(w, "not a ByteStream Read", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) < 5 {
		http.Error(w, "short", http.StatusBadRequest)
		return
	}
	resource, _ := bytesField(body[5:], 1)
	w.Header().Set("Content-Type", "application/grpc")
	c.mu.Lock()
	data, ok := c.blobs[string(resource)]
	c.mu.Unlock()
	if !ok {
		// Trailers-Only, as grpc-go answers a call that fails at once.
		w.Header().Set("Grpc-Status", "5")
		w.Header().Set("Grpc-Message", "Blob not found: "+string(resource))
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	w.WriteHeader(http.StatusOK)
	for len(data) > 0 {
		n := min(len(data), 1000)
		msg := appendString(nil, 10, string(data[:n]))
		frame := make([]byte, 5, 5+len(msg))
		binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
		w.Write(append(frame, msg...))
		c.served.Add(int64(n))
		data = data[n:]
	}
	w.Header().Set("Grpc-Status", "0")
}

// newRegistry starts go-containerregistry's registry behind a handler that keeps blobs
// per repository and mounts them, as real registries do (the registry alone answers for a
// blob in every repository once any has it, and does not mount).
func newRegistry(t *testing.T) string {
	t.Helper()
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var mu sync.Mutex
	has := map[string]bool{} // repo + "@" + digest
	blobPath := regexp.MustCompile(`^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$`)
	uploadPath := regexp.MustCompile(`^/v2/(.+)/blobs/uploads/`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if m := blobPath.FindStringSubmatch(r.URL.Path); m != nil && !has[m[1]+"@"+m[2]] {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		if m := uploadPath.FindStringSubmatch(r.URL.Path); m != nil {
			q := r.URL.Query()
			if d := q.Get("mount"); d != "" && r.Method == http.MethodPost {
				if has[q.Get("from")+"@"+d] {
					// The registry alone does not mount; do it here, as distribution does.
					has[m[1]+"@"+d] = true
					w.Header().Set("Location", "/v2/"+m[1]+"/blobs/"+d)
					w.WriteHeader(http.StatusCreated)
					return
				}
				r.URL.RawQuery = "" // not mountable from there: a plain upload
			}
			if d := q.Get("digest"); d != "" && r.Method == http.MethodPut {
				has[m[1]+"@"+d] = true
			}
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPushTakesLayersFromTheRemoteCache(t *testing.T) {
	host := newRegistry(t)
	cache := newGRPCCache(t)
	b := newBuilt(t, randomImage(t, 3))
	for _, d := range b.layers {
		cache.put("main", b.blobs[d])
	}
	// One layer is in the output tree; the rest only in the cache.
	b.putLocal(t, b.layers[0])
	src, err := NewRemoteCacheSource(RemoteCache{URL: cache.url, InstanceName: "main", Headers: http.Header{"X-Token": {"abc"}}})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Keychain: authn.NewMultiKeychain(), Sources: []Source{src}}
	res, err := Push(context.Background(), []Request{b.request(t, host+"/app", "v1")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	WriteSummary(&out, res)
	t.Logf("summary:\n%s", out.String())
	r := res[0]
	if r.Sent.Blobs != 4 || r.From["remote cache"] == nil || r.From["remote cache"].Blobs != 2 || r.From["output tree"].Blobs != 1 {
		t.Errorf("sent %+v from %v, want 4 blobs: 2 from the cache, 1 from the output tree, the config", r.Sent, r.From)
	}
	if got := cache.served.Load(); got != int64(len(b.blobs[b.layers[1]])+len(b.blobs[b.layers[2]])) {
		t.Errorf("cache served %d bytes", got)
	}
	if cache.header.Get("X-Token") != "abc" {
		t.Errorf("cache saw headers %v, want X-Token", cache.header)
	}
	ref, _ := name.ParseReference(host + "/app:v1")
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d != b.digest {
		t.Fatalf("registry has %s, pushed %s", d, b.digest)
	}
	if _, err := img.Layers(); err != nil {
		t.Fatal(err)
	}

	// A second push finds everything present and sends nothing.
	served := cache.served.Load()
	res, err = Push(context.Background(), []Request{b.request(t, host+"/app", "v1")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Sent.Blobs != 0 || r.Present.Blobs != 4 || cache.served.Load() != served {
		t.Errorf("re-push: %+v, cache served %d more bytes; want 0 sent, 4 present", r, cache.served.Load()-served)
	}
}

func TestPushBlobFoundNowhere(t *testing.T) {
	host := newRegistry(t)
	cache := newGRPCCache(t)
	b := newBuilt(t, randomImage(t, 1))
	src, _ := NewRemoteCacheSource(RemoteCache{URL: cache.url})
	disk := DiskCacheSource(t.TempDir())
	_, err := Push(context.Background(), []Request{b.request(t, host+"/app")}, Options{Keychain: authn.NewMultiKeychain(), Sources: []Source{src, disk}})
	if err == nil {
		t.Fatal("push of a blob found nowhere succeeded")
	}
	t.Logf("user sees: %v", err)
	for _, want := range []string{
		"pushing //t:push (" + host + "/app@" + b.digest.String() + "): layer blob " + b.layers[0].String() + ": found nowhere",
		"the output tree (" + filepath.Join(b.dir, "out", b.layers[0].Hex) + "): not found",
		"remote cache " + cache.url + ": not found (Blob not found: blobs/" + b.layers[0].Hex,
		"disk cache " + string(disk) + ": not found",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	ref, _ := name.ParseReference(host + "/app@" + b.digest.String())
	if _, err := remote.Head(ref); err == nil {
		t.Error("registry holds the manifest after a failed push")
	}
}

func TestPushRefusesCorruptSource(t *testing.T) {
	host := newRegistry(t)
	b := newBuilt(t, randomImage(t, 1))
	d := b.layers[0]
	// A disk cache entry of the right size and the wrong bytes.
	disk := t.TempDir()
	os.MkdirAll(filepath.Join(disk, "cas", d.Hex[:2]), 0o755)
	os.WriteFile(filepath.Join(disk, "cas", d.Hex[:2], d.Hex), make([]byte, len(b.blobs[d])), 0o644)
	_, err := Push(context.Background(), []Request{b.request(t, host+"/app")}, Options{Keychain: authn.NewMultiKeychain(), Sources: []Source{DiskCacheSource(disk)}})
	if err == nil {
		t.Fatal("push of a corrupt blob succeeded")
	}
	t.Logf("user sees: %v", err)
	if want := "disk cache " + disk + ": wrong bytes (content has digest sha256:"; !strings.Contains(err.Error(), want) {
		t.Errorf("error lacks %q", want)
	}
}

func TestPushSetSharesBlobsAndMounts(t *testing.T) {
	host := newRegistry(t)
	base := randomImage(t, 2)
	// Two apps on one base, to two repositories of one registry, and the base's blobs in
	// a disk cache.
	app1, _ := mutate.AppendLayers(base, mustLayer(t))
	app2, _ := mutate.AppendLayers(base, mustLayer(t))
	b1, b2 := newBuilt(t, app1), newBuilt(t, app2)
	disk := t.TempDir()
	for _, b := range []*built{b1, b2} {
		for d, data := range b.blobs {
			os.MkdirAll(filepath.Join(disk, "cas", d.Hex[:2]), 0o755)
			os.WriteFile(filepath.Join(disk, "cas", d.Hex[:2], d.Hex), data, 0o644)
		}
	}
	opts := Options{Keychain: authn.NewMultiKeychain(), Sources: []Source{DiskCacheSource(disk)}}
	res, err := Push(context.Background(), []Request{b1.request(t, host+"/one", "v1"), b2.request(t, host+"/two", "v1")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	WriteSummary(&out, res)
	t.Logf("summary:\n%s", out.String())
	// Each base layer is sent once (to the first repository) and mounted into the second.
	if res[0].Sent.Blobs != 4 || res[1].Mounted.Blobs != 2 || res[1].Sent.Blobs != 2 {
		t.Errorf("first %+v, second %+v; want 4 sent, then 2 mounted and 2 sent", res[0], res[1])
	}
	for _, want := range []string{"pushed //t:push  " + host + "/one@", "tags: v1", "mounted 2 (", "pushed 2 images"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}

func mustLayer(t *testing.T) v1.Layer {
	l, err := random.Layer(1024, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPushMountsPulledBaseFromItsRepository(t *testing.T) {
	host := newRegistry(t)
	base := randomImage(t, 2)
	baseRef, _ := name.ParseReference(host + "/base:1")
	if err := remote.Write(baseRef, base); err != nil {
		t.Fatal(err)
	}
	app, _ := mutate.AppendLayers(base, mustLayer(t))
	b := newBuilt(t, app)
	// The plan says the base layers came from host/base (an oci.pull base), the app
	// layer is in the output tree.
	ls, _ := base.Layers()
	var metas []*layer.Metadata
	for _, l := range ls {
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		s, _ := l.Size()
		metas = append(metas, &layer.Metadata{MediaType: layer.MediaTypeGzip, Digest: d.String(), Size: s, DiffID: diff.String()})
	}
	list, _ := json.Marshal(metas)
	os.WriteFile(filepath.Join(b.dir, "base.json"), list, 0o644)
	plan, _ := os.ReadFile(b.plan)
	os.WriteFile(b.plan, append(plan, "--extern=base.json\n--extern-dir=pulled\n--extern-origin="+host+"/base\n"...), 0o644)
	b.putLocal(t, b.layers[2])
	res, err := Push(context.Background(), []Request{b.request(t, host+"/app")}, Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Mounted.Blobs != 2 || r.Sent.Blobs != 2 {
		t.Errorf("%+v: want the 2 base layers mounted, the app layer and config sent", r)
	}
}

func TestReadBazelrc(t *testing.T) {
	ws, home := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(ws, ".bazelrc"), []byte(`# the team's settings
build --remote_cache=grpcs://cache.example:443 --remote_instance_name=main
build:ci --remote_header=x-token=abc \
  --disk_cache=~/dc
common --credential_helper=ghcr.io=%workspace%/helper
common:rbe --remote_executor grpc://rbe.example:8980
test --remote_cache=grpc://ignored
try-import %workspace%/user.bazelrc
`), 0o644)
	os.WriteFile(filepath.Join(ws, "user.bazelrc"), []byte("build --tls_certificate=certs/ca.pem\n"), 0o644)
	s, err := ReadBazelrc("", ws, home, nil, []string{"ci"})
	if err != nil {
		t.Fatal(err)
	}
	rc := s.RemoteCache
	if rc.URL != "grpcs://cache.example:443" || rc.InstanceName != "main" || rc.Headers.Get("x-token") != "abc" ||
		rc.TLSCA != filepath.Join(ws, "certs/ca.pem") || s.DiskCache != filepath.Join(home, "dc") {
		t.Errorf("read %+v", s)
	}
	if len(s.CredentialHelpers) != 1 || s.CredentialHelpers[0] != "ghcr.io=%workspace%/helper" {
		t.Errorf("credential helpers %q", s.CredentialHelpers)
	}
	if _, err := ReadBazelrc("", ws, home, nil, []string{"nope"}); err == nil || !strings.Contains(err.Error(), `config "nope" is not defined`) {
		t.Errorf("unknown config: %v", err)
	}
	os.WriteFile(filepath.Join(home, ".bazelrc"), []byte("build --remote_cache=\n"), 0o644)
	s, _ = ReadBazelrc("", ws, home, nil, []string{"rbe"})
	if s.RemoteCache.URL != "grpc://rbe.example:8980" {
		t.Errorf("an executor's cache: %+v", s.RemoteCache)
	}

	// --bazelrc files are read instead of ~/.bazelrc (which here would clear the cache), after
	// the workspace's; one that does not exist is an error naming it, as in Bazel.
	ci := filepath.Join(t.TempDir(), "ci.bazelrc")
	os.WriteFile(ci, []byte("build --disk_cache=/var/cache/bazel\n"), 0o644)
	s, err = ReadBazelrc("", ws, home, []string{ci}, nil)
	if err != nil || s.DiskCache != "/var/cache/bazel" || s.RemoteCache.URL != "grpcs://cache.example:443" {
		t.Errorf("with --bazelrc: %+v %v", s, err)
	}
	missing := filepath.Join(ws, "gone.bazelrc")
	if _, err := ReadBazelrc("", ws, home, []string{missing}, nil); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing --bazelrc: %v", err)
	} else {
		t.Logf("a missing --bazelrc reads: %v", err)
	}
}

func TestRemoteCacheErrors(t *testing.T) {
	for url, want := range map[string]string{
		"unix:///tmp/cache.sock": "unix sockets are not supported by push",
		"ftp://cache":            `scheme "ftp" is none of grpc, grpcs, http, https`,
	} {
		_, err := NewRemoteCacheSource(RemoteCache{URL: url})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", url, err, want)
		}
	}
	if _, err := NewRemoteCacheSource(RemoteCache{URL: "grpcs://c", TLSCert: "a.pem"}); err == nil ||
		!strings.Contains(err.Error(), "tls_client_certificate and tls_client_key go together") {
		t.Errorf("client cert without key: %v", err)
	}
}

func TestHTTPCacheSource(t *testing.T) {
	data := []byte("a blob")
	d, _, _ := v1.SHA256(strings.NewReader(string(data)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/prefix/cas/"+d.Hex {
			w.Write(data)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	s, err := NewRemoteCacheSource(RemoteCache{URL: srv.URL + "/prefix"})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := s.Open(context.Background(), v1.Descriptor{Digest: d, Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	if string(got) != string(data) {
		t.Errorf("read %q", got)
	}
	other, _ := v1.NewHash("sha256:" + strings.Repeat("0", 64))
	if _, err := s.Open(context.Background(), v1.Descriptor{Digest: other, Size: 1}); err != errNotFound {
		t.Errorf("absent blob: %v", err)
	}
}
