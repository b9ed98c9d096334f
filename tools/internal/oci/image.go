// Package oci assembles image configs, manifests and OCI layouts from layer metadata. It
// never reads layer bytes except when copying blobs into a layout.
package oci

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
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
	// Base is the base image's config, or nil; BaseLayers its layers, bottom first.
	Base            *v1.ConfigFile
	BaseLayers      []*layer.Metadata
	Layers          []*layer.Metadata
	Entrypoint, Cmd []string
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
	if s.Base != nil {
		if s.Base.OS != s.OS || s.Base.Architecture != s.Architecture {
			return nil, fmt.Errorf("base image is %s/%s, this image is %s/%s", s.Base.OS, s.Base.Architecture, s.OS, s.Architecture)
		}
		if len(s.Base.RootFS.DiffIDs) != len(s.BaseLayers) {
			return nil, fmt.Errorf("base config lists %d layers, base manifest %d", len(s.Base.RootFS.DiffIDs), len(s.BaseLayers))
		}
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
	if s.Base != nil {
		inherit(&cfg, s)
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
	if s.Base != nil {
		cfg.History = append(cfg.History, s.Base.History...)
	}
	for i, l := range append(append([]*layer.Metadata(nil), s.BaseLayers...), s.Layers...) {
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
		if i >= len(s.BaseLayers) {
			cfg.History = append(cfg.History, v1.History{
				Created:   v1.Time{Time: s.Created.UTC()},
				CreatedBy: l.CreatedBy,
				Comment:   "rules_wharf",
			})
		} else if s.Base.RootFS.DiffIDs[i] != diff {
			return nil, fmt.Errorf("base layer %d: manifest says diff_id %s, config %s", i, diff, s.Base.RootFS.DiffIDs[i])
		}
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
	man.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(cfgBytes)), Digest: Digest(cfgBytes)}
	manBytes, err := json.Marshal(man)
	if err != nil {
		return nil, err
	}
	desc := v1.Descriptor{
		MediaType: types.OCIManifestSchema1,
		Size:      int64(len(manBytes)),
		Digest:    Digest(manBytes),
		Platform:  &v1.Platform{OS: s.OS, Architecture: s.Architecture, Variant: s.Variant},
	}
	return &Built{Config: cfgBytes, Manifest: manBytes, Descriptor: desc}, nil
}

// Digest is the sha256 digest of b, as descriptors name blobs.
func Digest(b []byte) v1.Hash {
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

// inherit starts cfg from the base image's config: environment (this image's values win,
// with $VAR and ${VAR} expanded against the base's), entrypoint, cmd, user, working
// directory, labels, ports, volumes and stop signal unless this image sets them.
func inherit(cfg *v1.ConfigFile, s *ImageSpec) {
	b := s.Base.Config
	baseEnv := map[string]string{}
	var order []string
	for _, kv := range b.Env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := baseEnv[k]; !dup {
			order = append(order, k)
		}
		baseEnv[k] = v
	}
	env := map[string]string{}
	for k, v := range baseEnv {
		env[k] = v
	}
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		if _, known := env[k]; !known {
			order = append(order, k)
		}
		env[k] = os.Expand(v, func(name string) string { return baseEnv[name] })
	}
	cfg.Config.Env = nil
	for _, k := range order {
		cfg.Config.Env = append(cfg.Config.Env, k+"="+env[k])
	}
	cfg.Config.Entrypoint, cfg.Config.Cmd = b.Entrypoint, b.Cmd
	if cfg.Config.User == "" {
		cfg.Config.User = b.User
	}
	if cfg.Config.WorkingDir == "" {
		cfg.Config.WorkingDir = b.WorkingDir
	}
	if cfg.Config.StopSignal == "" {
		cfg.Config.StopSignal = b.StopSignal
	}
	if len(b.Labels) > 0 {
		labels := map[string]string{}
		for k, v := range b.Labels {
			labels[k] = v
		}
		for k, v := range cfg.Config.Labels {
			labels[k] = v
		}
		cfg.Config.Labels = labels
	}
	for p := range b.ExposedPorts {
		if cfg.Config.ExposedPorts == nil {
			cfg.Config.ExposedPorts = map[string]struct{}{}
		}
		cfg.Config.ExposedPorts[p] = struct{}{}
	}
	for v := range b.Volumes {
		if cfg.Config.Volumes == nil {
			cfg.Config.Volumes = map[string]struct{}{}
		}
		cfg.Config.Volumes[v] = struct{}{}
	}
}
