package oci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testLayout writes OCI layouts blob by blob.
type testLayout struct {
	t   *testing.T
	dir string
}

// blob writes b under its digest and returns its descriptor.
func (l testLayout) blob(mt types.MediaType, b []byte, p *v1.Platform) v1.Descriptor {
	d := Digest(b)
	if err := os.WriteFile(filepath.Join(l.dir, "blobs", "sha256", d.Hex), b, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: d, Platform: p}
}

func (l testLayout) json(mt types.MediaType, v any, p *v1.Platform) v1.Descriptor {
	b, err := json.Marshal(v)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.blob(mt, b, p)
}

// image writes an image of one layer for a platform (the config says arch; the
// descriptor's platform is p) and returns its manifest's descriptor.
func (l testLayout) image(arch, content string, p *v1.Platform) v1.Descriptor {
	lay := l.blob(types.OCILayer, []byte(content), nil)
	cfg := l.json(types.OCIConfigJSON, v1.ConfigFile{OS: "linux", Architecture: arch,
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{Digest([]byte("diff " + content))}}}, nil)
	return l.json(types.OCIManifestSchema1, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: cfg, Layers: []v1.Descriptor{lay}}, p)
}

func newTestLayout(t *testing.T) testLayout {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	return testLayout{t, dir}
}

// index writes index.json listing ds.
func (l testLayout) index(ds ...v1.Descriptor) {
	b, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: ds})
	if err := os.WriteFile(filepath.Join(l.dir, "index.json"), b, 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// ImportLayout finds the one image of the platform asked for, in a nested index too,
// skipping descriptors of another platform or variant, and refuses a layout without one,
// with two, or without a layer's blob.
func TestImportLayout(t *testing.T) {
	l := newTestLayout(t)
	arm := l.image("arm64", "arm layer", &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"})
	amd := l.image("amd64", "amd layer", nil) // no platform: its config decides
	nested := l.json(types.OCIImageIndex, v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex,
		Manifests: []v1.Descriptor{amd}}, nil)
	l.index(arm, nested)
	for _, tc := range []struct{ arch, variant, layer string }{{"amd64", "", "amd layer"}, {"arm64", "v8", "arm layer"}, {"arm64", "", "arm layer"}} {
		im, err := ImportLayout(l.dir, "linux", tc.arch, tc.variant)
		if err != nil {
			t.Fatalf("%s: %v", tc.arch, err)
		}
		config, metas := im.Config, im.Layers
		if want := map[string]v1.Descriptor{"amd64": amd, "arm64": arm}[tc.arch]; im.Descriptor.Digest != want.Digest || im.Descriptor.Size != want.Size || im.Descriptor.Platform.Architecture != tc.arch {
			t.Errorf("%s: descriptor %+v, want %s with the platform", tc.arch, im.Descriptor, want.Digest)
		}
		var cfg v1.ConfigFile
		if err := json.Unmarshal(config, &cfg); err != nil || cfg.Architecture != tc.arch {
			t.Errorf("%s: config %s (%v)", tc.arch, config, err)
		}
		want := Digest([]byte(tc.layer)).String()
		if len(metas) != 1 || metas[0].Digest != want || metas[0].DiffID != Digest([]byte("diff "+tc.layer)).String() {
			t.Errorf("%s: layers %+v, want one of digest %s", tc.arch, metas, want)
		}
	}
	for _, tc := range []struct {
		name, arch, variant, want string
		edit                      func()
	}{
		{"other variant", "arm64", "v7", "has no image for linux/arm64", nil},
		{"no such platform", "s390x", "", "has no image for linux/s390x", nil},
		{"two images", "amd64", "", "more than one image for linux/amd64", func() { l.index(amd, nested) }},
		{"missing layer", "amd64", "", "layer 0: ", func() {
			l.index(amd)
			os.Remove(filepath.Join(l.dir, "blobs", "sha256", Digest([]byte("amd layer")).Hex))
		}},
	} {
		if tc.edit != nil {
			tc.edit()
		}
		_, err := ImportLayout(l.dir, "linux", tc.arch, tc.variant)
		if err == nil || !strings.HasPrefix(err.Error(), "layout "+l.dir) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q naming the layout", tc.name, err, tc.want)
		}
	}
}
