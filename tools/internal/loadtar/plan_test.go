package loadtar

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

const digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// TestPlanErrors: each input NewPlan refuses, with the message.
func TestPlanErrors(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "layers.json")
	b, _ := json.Marshal([]layer.Metadata{{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: digestA, Size: 3, DiffID: digestA}})
	os.WriteFile(list, b, 0o644)
	layout := filepath.Join(dir, "layout")
	for _, tc := range []struct {
		name string
		in   Inputs
		want string
	}{
		{"origin not a pair", Inputs{Origins: []string{"nope"}}, `--origin "nope": want KEY=VALUE`},
		{"runfile not a pair", Inputs{Runfiles: []string{"a="}}, `--runfile "a=": want KEY=VALUE`},
		{"missing, no origin", Inputs{Extern: []string{list + "=" + layout}},
			"base layer " + digestA + " (3 bytes) is not in the layout " + layout + ": oci.pull fetches"},
		{"no runfiles path", Inputs{Extern: []string{list + "=" + dir}, Runfiles: []string{"elsewhere=x"}},
			"blob " + dir + "/blobs/sha256/aaaa"},
	} {
		if tc.name == "no runfiles path" {
			os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
			os.WriteFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(digestA, "sha256:")), []byte("abc"), 0o644)
		}
		_, err := NewPlan(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}

// TestStreamErrors: a plan whose blob cannot be opened says which, masking userinfo.
func TestStreamErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	os.WriteFile(filepath.Join(dir, "wrong"), []byte("xyz"), 0o644)
	if _, err := ReadPlan(bad); err == nil || !strings.Contains(err.Error(), "load plan "+bad) {
		t.Errorf("bad plan: %v", err)
	}
	for _, tc := range []struct {
		name string
		blob Blob
		want string
		not  string
	}{
		{"bad digest", Blob{Digest: "md5:x", Size: 1, Path: "x"}, `image //a:b: layer "md5:x": `, ""},
		{"no runfile", Blob{Digest: digestA, Size: 1, Path: "gone"}, "image //a:b: layer " + digestA + ": open " + dir + "/gone", ""},
		{"wrong bytes", Blob{Digest: digestA, Size: 3, Path: "wrong"}, "image //a:b: layer " + digestA + ": blob " + digestA + " from runfile wrong: content has digest sha256:", ""},
		{"bad origin", Blob{Digest: digestA, Size: 1, Origin: "https://user:secret@host/x"}, "image //a:b: base layer " + digestA + ": origin", "secret"},
	} {
		p := Plan{Image: "//a:b", Config: []byte("{}"), Tags: []string{"a:b"}, Layers: []Blob{tc.blob}}
		_, err := Stream(context.Background(), io.Discard, p, Sources{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.not != "" && strings.Contains(err.Error(), tc.not)) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}
