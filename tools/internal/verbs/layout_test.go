package verbs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// layoutArgs writes a descriptor and its blob (a bare manifest: layout does not parse it)
// and returns layout's arguments for them.
func layoutArgs(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	blob := []byte(`{"schemaVersion":2}`)
	desc, _ := json.Marshal(v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: oci.Digest(blob), Size: int64(len(blob))})
	os.WriteFile(filepath.Join(dir, "m.json"), blob, 0o644)
	os.WriteFile(filepath.Join(dir, "desc.json"), desc, 0o644)
	return []string{"--descriptor", filepath.Join(dir, "desc.json"), "--blob", filepath.Join(dir, "m.json")}
}

// A trailing slash names the same directory (#26 item 18): it was taken as the parent of
// the temporary, which then stood inside the destination, and the commit refused the
// destination it had just made as "not an empty directory".
func TestLayoutOutWithTrailingSlash(t *testing.T) {
	root := t.TempDir()
	if err := layoutVerb(append(layoutArgs(t), "--out", filepath.Join(root, "out")+"/")); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, root); !slices.Equal(got, []string{"out"}) {
		t.Fatalf("%s holds %v, want out alone", root, got)
	}
	if got := entries(t, filepath.Join(root, "out")); !slices.Equal(got, []string{"blobs", "index.json", "oci-layout"}) {
		t.Fatalf("out holds %v", got)
	}
}

func TestLayoutOutNotEmpty(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	os.Mkdir(out, 0o755)
	os.WriteFile(filepath.Join(out, "keep.txt"), []byte("mine"), 0o644)
	err := layoutVerb(append(layoutArgs(t), "--out", out+"/"))
	want := "publishing " + out + ": it exists and is not an empty directory; it was left as it is"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if got := entries(t, out); !slices.Equal(got, []string{"keep.txt"}) {
		t.Fatalf("out holds %v, want the user's file alone", got)
	}
}

// A layout that fails leaves no directory it made, the output's missing parents included.
func TestLayoutFailureLeavesNoDirectory(t *testing.T) {
	root := t.TempDir()
	meta := filepath.Join(root, "meta.json")
	d := "sha256:" + strings.Repeat("ab", 32)
	os.WriteFile(meta, (&layer.Metadata{MediaType: layer.MediaTypeGzip, Digest: d, DiffID: d, Size: 1}).Marshal(), 0o644)
	missing := filepath.Join(root, "missing.tgz")
	err := layoutVerb(append(layoutArgs(t), "--layer", missing+"="+meta, "--out", filepath.Join(root, "new", "out")+"/"))
	if want := "blob " + d + ": lstat " + missing + ": no such file or directory"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if got := entries(t, root); !slices.Equal(got, []string{"meta.json"}) {
		t.Fatalf("%s holds %v after the failure, want meta.json alone", root, got)
	}
}
