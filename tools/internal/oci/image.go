// Package oci assembles image configs, manifests and OCI layouts from layer metadata. It
// never reads layer bytes except when copying blobs into a layout.
package oci

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// ImageSpec is what an image action knows: the layers (metadata only) and the config.
type ImageSpec struct {
	OS, Architecture, Variant string
	Layers                    []*layer.Metadata
	Entrypoint, Cmd           []string
	// EntrypointSet/CmdSet distinguish "not given" from "given as empty".
	EntrypointSet, CmdSet bool
	Env                   []string
	User, WorkingDir      string
	Labels                map[string]string
	Annotations           map[string]string
	ExposedPorts          []string
	Volumes               []string
	StopSignal            string
	Created               time.Time
}

// Built is an image's config and manifest as bytes, with the manifest's descriptor.
type Built struct {
	Config, Manifest []byte
	Descriptor       v1.Descriptor
}

// Build renders config and manifest deterministically.
func Build(s *ImageSpec) (*Built, error) {
	if s.OS == "" || s.Architecture == "" {
		return nil, fmt.Errorf("os and architecture are required")
	}
	cfg := v1.ConfigFile{
		Architecture: s.Architecture,
		OS:           s.OS,
		Variant:      s.Variant,
		Created:      v1.Time{Time: s.Created.UTC()},
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{}},
		Config: v1.Config{
			Env:        s.Env,
			User:       s.User,
			WorkingDir: s.WorkingDir,
			Labels:     s.Labels,
			StopSignal: s.StopSignal,
		},
	}
	if s.EntrypointSet {
		cfg.Config.Entrypoint = s.Entrypoint
	}
	if s.CmdSet {
		cfg.Config.Cmd = s.Cmd
	}
	for _, p := range s.ExposedPorts {
		if cfg.Config.ExposedPorts == nil {
			cfg.Config.ExposedPorts = map[string]struct{}{}
		}
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		cfg.Config.ExposedPorts[p] = struct{}{}
	}
	for _, v := range s.Volumes {
		if cfg.Config.Volumes == nil {
			cfg.Config.Volumes = map[string]struct{}{}
		}
		cfg.Config.Volumes[v] = struct{}{}
	}
	man := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Annotations:   s.Annotations,
	}
	for i, l := range s.Layers {
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		d, err := v1.NewHash(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		diff, err := v1.NewHash(l.DiffID)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diff)
		cfg.History = append(cfg.History, v1.History{
			Created:   v1.Time{Time: s.Created.UTC()},
			CreatedBy: l.CreatedBy,
			Comment:   "rules_wharf",
		})
		man.Layers = append(man.Layers, v1.Descriptor{
			MediaType:   types.MediaType(l.MediaType),
			Size:        l.Size,
			Digest:      d,
			Annotations: l.Annotations,
		})
	}
	cfgBytes, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	man.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(cfgBytes)), Digest: sum(cfgBytes)}
	manBytes, err := json.Marshal(man)
	if err != nil {
		return nil, err
	}
	desc := v1.Descriptor{
		MediaType: types.OCIManifestSchema1,
		Size:      int64(len(manBytes)),
		Digest:    sum(manBytes),
		Platform:  &v1.Platform{OS: s.OS, Architecture: s.Architecture, Variant: s.Variant},
	}
	return &Built{Config: cfgBytes, Manifest: manBytes, Descriptor: desc}, nil
}

func sum(b []byte) v1.Hash {
	h := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h[:])}
}

// SortedKeys returns the keys of m in order.
func SortedKeys(m map[string]string) []string {
	k := make([]string, 0, len(m))
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}
