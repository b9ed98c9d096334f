package push

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// putDisk writes data as the disk cache entry of d.
func putDisk(t *testing.T, dir string, d v1.Hash, data []byte) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "cas", d.Hex[:2]), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "cas", d.Hex[:2], d.Hex), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A stale output-tree file (the blob's size, other bytes) in front of a good disk cache
// entry: push takes the cache's; with every source wrong it names them and says a
// rebuild refreshes them.
func TestPushSkipsSourcesWithWrongBytes(t *testing.T) {
	host := newRegistry(t)
	b := newBuilt(t, randomImage(t, 1))
	d := b.layers[0]
	stale := make([]byte, len(b.blobs[d]))
	os.MkdirAll(filepath.Join(b.dir, "out"), 0o755)
	os.WriteFile(filepath.Join(b.dir, "out", d.Hex), stale, 0o644)
	disk := t.TempDir()
	putDisk(t, disk, d, b.blobs[d])
	opts := Options{Keychain: authn.NewMultiKeychain(), Sources: []Source{DiskCacheSource(disk)}}
	res, err := Push(context.Background(), []Request{b.request(t, host+"/app")}, opts)
	if err != nil {
		t.Fatalf("push past a stale output-tree file: %v", err)
	}
	if c := res[0].From["disk cache"]; c == nil || c.Blobs != 1 || res[0].From["output tree"] != nil {
		t.Errorf("sent from %v, want the layer from the disk cache", res[0].From)
	}

	putDisk(t, disk, d, stale)
	_, err = Push(context.Background(), []Request{b.request(t, host+"/other")}, opts)
	if err == nil {
		t.Fatal("push with wrong bytes in every source succeeded")
	}
	t.Logf("user sees: %v", err)
	for _, want := range []string{
		"pushing //t:push (" + host + "/other@" + b.digest.String() + "): layer blob " + d.String() + ": found nowhere",
		"the output tree (" + filepath.Join(b.dir, "out", d.Hex) + "): wrong bytes (content has digest sha256:",
		"disk cache " + disk + ": wrong bytes (content has digest sha256:",
		"2 sources had other bytes under this digest (stale or corrupt); a rebuild (bazel build //t:push) refreshes them",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
}

// Requests are independent: one whose layer is found nowhere fails, the other is pushed,
// and the summary gives both outcomes.
func TestPushFailsOneRequestOnly(t *testing.T) {
	host := newRegistry(t)
	lost, good := newBuilt(t, randomImage(t, 1)), newBuilt(t, randomImage(t, 1))
	good.putLocal(t, good.layers[0])
	res, err := Push(context.Background(), []Request{lost.request(t, host+"/lost", "v1"), good.request(t, host+"/good", "v1")},
		Options{Keychain: authn.NewMultiKeychain()})
	if err == nil || res == nil {
		t.Fatalf("push of a blob found nowhere: %v, %v", res, err)
	}
	if res[0].Status != Failed || res[1].Status != Pushed {
		t.Fatalf("statuses %s, %s; want failed, pushed", res[0].Status, res[1].Status)
	}
	var out strings.Builder
	WriteSummary(&out, res)
	t.Logf("summary:\n%s\nerror: %v", out.String(), err)
	for _, want := range []string{
		"failed //t:push  " + host + "/lost@" + lost.digest.String() + "  tags: v1\n  layer blob " + lost.layers[0].String() + ": found nowhere",
		"\n    the output tree (" + filepath.Join(lost.dir, "out", lost.layers[0].Hex) + "): not found\n",
		"pushed //t:push  " + host + "/good@" + good.digest.String() + "  tags: v1\n  sent 2 blobs",
		"pushed 1 of 2 images, 1 failed\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if want := "pushing //t:push (" + host + "/lost@" + lost.digest.String() + "): layer blob "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
}

// A registry that cannot be reached fails the first blob; the others, of every request,
// fail at once instead of each waiting for its own retries.
func TestPushRegistryDown(t *testing.T) {
	b1, b2 := newBuilt(t, randomImage(t, 1)), newBuilt(t, randomImage(t, 1))
	b := remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 2}
	Backoff = &b
	t.Cleanup(func() { Backoff = nil })
	res, err := Push(context.Background(), []Request{b1.request(t, "127.0.0.1:1/one"), b2.request(t, "127.0.0.1:1/two")},
		Options{Keychain: authn.NewMultiKeychain(), Jobs: 1})
	if err == nil {
		t.Fatal("push to a closed port succeeded")
	}
	t.Logf("user sees: %v", err)
	if res[0].Status != Failed || !strings.Contains(res[0].Err.Error(), "connection refused") {
		t.Errorf("first request: %s, %v; want failed, connection refused", res[0].Status, res[0].Err)
	}
	if res[1].Status != Failed || !strings.Contains(res[1].Err.Error(), "not attempted: registry 127.0.0.1:1 failed another blob: ") {
		t.Errorf("second request: %s, %v; want failed, not attempted", res[1].Status, res[1].Err)
	}
}

// An interrupted push attempts nothing more and reports the requests it did not reach as
// skipped.
func TestPushInterrupted(t *testing.T) {
	host := newRegistry(t)
	b := newBuilt(t, randomImage(t, 1))
	b.putLocal(t, b.layers[0])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Push(ctx, []Request{b.request(t, host+"/one"), b.request(t, host+"/two")}, Options{Keychain: authn.NewMultiKeychain()})
	if err == nil {
		t.Fatal("an interrupted push succeeded")
	}
	var out strings.Builder
	WriteSummary(&out, res)
	t.Logf("summary:\n%s", out.String())
	for _, want := range []string{
		"skipped //t:push  " + host + "/one@" + b.digest.String() + "  tags: none\n  not attempted: the push was interrupted (context canceled)\n",
		"pushed 0 of 2 images, 2 skipped\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}
