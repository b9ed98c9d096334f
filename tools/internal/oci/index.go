package oci

import (
	"encoding/json"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BuildIndex renders an image index of the manifests whose descriptor files (ReadDescriptor)
// are given, one per platform, annotated with KEY=VALUE annotations; it returns the index
// and its descriptor.
func BuildIndex(manifests, annotations []string) ([]byte, v1.Descriptor, error) {
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}
	seen := map[string]string{}
	for _, m := range manifests {
		d, err := ReadDescriptor(m)
		if err != nil {
			return nil, v1.Descriptor{}, err
		}
		if d.Platform == nil {
			return nil, v1.Descriptor{}, fmt.Errorf("manifest %s has no platform", m)
		}
		key := d.Platform.OS + "/" + d.Platform.Architecture + "/" + d.Platform.Variant
		if prev, dup := seen[key]; dup {
			return nil, v1.Descriptor{}, fmt.Errorf("two images for platform %s (%s and %s)", strings.TrimSuffix(key, "/"), prev, m)
		}
		seen[key] = m
		idx.Manifests = append(idx.Manifests, d)
	}
	for _, a := range annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, v1.Descriptor{}, fmt.Errorf("--annotation %q: want KEY=VALUE", a)
		}
		if idx.Annotations == nil {
			idx.Annotations = map[string]string{}
		}
		idx.Annotations[k] = v
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	return b, v1.Descriptor{MediaType: types.OCIImageIndex, Size: int64(len(b)), Digest: Digest(b)}, nil
}
