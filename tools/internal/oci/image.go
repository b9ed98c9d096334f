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
	if err := s.checkBase(); err != nil {
		return nil, err
	}
	cfg := s.config()
	man := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Annotations:   s.Annotations,
	}
	if err := s.addLayers(&cfg, &man); err != nil {
		return nil, err
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

// checkBase refuses a spec without a platform, or whose base is of another platform or
// whose base config and manifest disagree on the number of layers.
func (s *ImageSpec) checkBase() error {
	if s.OS == "" || s.Architecture == "" {
		return fmt.Errorf("os and architecture are required")
	}
	if s.Base == nil {
		return nil
	}
	if s.Base.OS != s.OS || s.Base.Architecture != s.Architecture {
		return fmt.Errorf("base image is %s/%s, this image is %s/%s", s.Base.OS, s.Base.Architecture, s.OS, s.Architecture)
	}
	if len(s.Base.RootFS.DiffIDs) != len(s.BaseLayers) {
		return fmt.Errorf("base config lists %d layers, base manifest %d", len(s.Base.RootFS.DiffIDs), len(s.BaseLayers))
	}
	return nil
}

// config is the image config without its layers: the spec's values over the base's, and
// the base's history.
func (s *ImageSpec) config() v1.ConfigFile {
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
		cfg.History = append(cfg.History, s.Base.History...)
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
	return cfg
}

// addLayers lists the base's layers, then the image's, in the config (diff IDs; history
// for the image's own) and the manifest (descriptors), checking the base's against its
// config.
func (s *ImageSpec) addLayers(cfg *v1.ConfigFile, man *v1.Manifest) error {
	for i, l := range append(append([]*layer.Metadata(nil), s.BaseLayers...), s.Layers...) {
		desc, diff, err := layerDescriptor(l)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diff)
		if i >= len(s.BaseLayers) {
			cfg.History = append(cfg.History, v1.History{
				Created:   v1.Time{Time: s.Created.UTC()},
				CreatedBy: l.CreatedBy,
				Comment:   "rules_wharf",
			})
		} else if s.Base.RootFS.DiffIDs[i] != diff {
			return fmt.Errorf("base layer %d: manifest says diff_id %s, config %s", i, diff, s.Base.RootFS.DiffIDs[i])
		}
		man.Layers = append(man.Layers, desc)
	}
	return nil
}

// layerDescriptor is a layer's manifest descriptor and its diff ID, from its metadata.
func layerDescriptor(l *layer.Metadata) (v1.Descriptor, v1.Hash, error) {
	if err := l.Validate(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	d, err := v1.NewHash(l.Digest)
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	diff, err := v1.NewHash(l.DiffID)
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	desc := v1.Descriptor{MediaType: types.MediaType(l.MediaType), Size: l.Size, Digest: d, Annotations: l.Annotations}
	return desc, diff, nil
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
