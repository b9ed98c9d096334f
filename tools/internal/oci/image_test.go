package oci

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

func meta(c string) *layer.Metadata {
	return &layer.Metadata{MediaType: layer.MediaTypeGzip, Digest: "sha256:" + strings.Repeat(c, 64), DiffID: "sha256:" + strings.Repeat(c, 64), Size: 10}
}

func TestBuildOnBase(t *testing.T) {
	base := &v1.ConfigFile{
		OS: "linux", Architecture: "amd64",
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}}},
		History: []v1.History{{CreatedBy: "base layer"}},
		Config: v1.Config{
			Env: []string{"PATH=/usr/bin", "A=1"}, Entrypoint: []string{"/base"}, Cmd: []string{"x"},
			User: "1", WorkingDir: "/w", Labels: map[string]string{"l": "base", "keep": "y"},
			ExposedPorts: map[string]struct{}{"80/tcp": {}},
		},
	}
	b, err := Build(&ImageSpec{
		OS: "linux", Architecture: "amd64", Base: base, BaseLayers: []*layer.Metadata{meta("a")},
		Layers: []*layer.Metadata{meta("b")},
		Env:    []string{"A=${A}2", "PATH=/opt/bin:$PATH"}, Labels: map[string]string{"l": "mine"},
		ExposedPorts: []string{"8080"}, Created: time.Unix(0, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	var cfg v1.ConfigFile
	json.Unmarshal(b.Config, &cfg)
	c := cfg.Config
	if strings.Join(c.Env, " ") != "PATH=/opt/bin:/usr/bin A=12" || c.Entrypoint[0] != "/base" || c.Cmd[0] != "x" ||
		c.User != "1" || c.WorkingDir != "/w" || c.Labels["l"] != "mine" || c.Labels["keep"] != "y" || len(c.ExposedPorts) != 2 {
		t.Fatalf("config %+v", c)
	}
	if len(cfg.RootFS.DiffIDs) != 2 || len(cfg.History) != 2 || cfg.History[0].CreatedBy != "base layer" {
		t.Fatalf("rootfs %v history %v", cfg.RootFS.DiffIDs, cfg.History)
	}

	// A base for another platform, or whose config and layers disagree, is an error.
	if _, err := Build(&ImageSpec{OS: "linux", Architecture: "arm64", Base: base, BaseLayers: []*layer.Metadata{meta("a")}}); err == nil {
		t.Fatal("platform mismatch accepted")
	}
	if _, err := Build(&ImageSpec{OS: "linux", Architecture: "amd64", Base: base, BaseLayers: []*layer.Metadata{meta("c")}}); err == nil {
		t.Fatal("diff_id mismatch accepted")
	}
}
