// Package loadtar writes oci_load's archive at `bazel run` time for an image on a shallow
// base (oci.pull without the layer blobs): the build writes a Plan (NewPlan, `wharf
// docker-tar --plan`), everything but the blobs it does not have; Load (`wharf load-tar`)
// streams the whole archive, oci.WriteDockerTar's bytes, into the runtime's load, taking
// the build's blobs from runfiles and the base's from the registry it was pulled from.
package loadtar

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// Plan is a docker archive described: what oci.DockerTar holds, its blobs by reference.
type Plan struct {
	Image      string         `json:"image"` // the image's label, for messages
	Config     []byte         `json:"config"`
	Manifest   []byte         `json:"manifest,omitempty"`
	Descriptor *v1.Descriptor `json:"descriptor,omitempty"`
	Tags       []string       `json:"tags"`
	Layers     []Blob         `json:"layers"` // bottom first
}

// Blob is one layer blob: a runfiles path (the build has it) or an origin registry
// repository (a shallow base's).
type Blob struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	Path   string `json:"path,omitempty"`
	Origin string `json:"origin,omitempty"`
}

// Inputs are what `docker-tar --plan` is given.
type Inputs struct {
	Image    string
	Tar      oci.DockerTar // config, manifest and descriptor, tags; no layers
	Extern   []string      // LAYERS_JSON=DIR: layers kept in an imported layout
	Origins  []string      // LAYERS_JSON=REPOSITORY: the registry repository an --extern was pulled from
	Layers   []string      // BLOB=METADATA
	Runfiles []string      // EXEC_PATH=RUNFILES_PATH of the blobs' files and layout directories
}

// NewPlan describes the archive: blobs the build has by their runfiles path, an imported
// layout's missing blobs by the registry it was pulled from (without one, the missing blob
// is oci.ExternPresent's error).
func NewPlan(in Inputs) (Plan, error) {
	p := Plan{Image: in.Image, Config: in.Tar.Config, Manifest: in.Tar.Manifest, Descriptor: in.Tar.Descriptor, Tags: []string{}}
	for _, t := range in.Tar.Tags {
		p.Tags = append(p.Tags, t.String())
	}
	origins, err := pairs("--origin", in.Origins)
	if err != nil {
		return Plan{}, err
	}
	runfiles, err := pairs("--runfile", in.Runfiles)
	if err != nil {
		return Plan{}, err
	}
	for _, v := range in.Extern {
		files, err := oci.ReadExtern([]string{v})
		if err != nil {
			return Plan{}, err
		}
		list, _, _ := strings.Cut(v, "=")
		for _, f := range files {
			b, err := externBlob(f, origins[list], runfiles)
			if err != nil {
				return Plan{}, err
			}
			p.Layers = append(p.Layers, b)
		}
	}
	own, err := oci.ReadLayerArgs(in.Layers)
	if err != nil {
		return Plan{}, err
	}
	for _, f := range own {
		path, err := runfile(f.Path, runfiles)
		if err != nil {
			return Plan{}, err
		}
		p.Layers = append(p.Layers, Blob{Digest: f.Meta.Digest, Size: f.Meta.Size, Path: path})
	}
	return p, nil
}

// externBlob is a layer of an imported layout: its runfile when the layout holds it, else
// its origin registry.
func externBlob(f oci.LayerFile, origin string, runfiles map[string]string) (Blob, error) {
	b := Blob{Digest: f.Meta.Digest, Size: f.Meta.Size}
	_, err := os.Stat(f.Path)
	switch {
	case err == nil:
		b.Path, err = runfile(f.Path, runfiles)
		return b, err
	case errors.Is(err, fs.ErrNotExist) && origin != "":
		b.Origin = origin
		return b, nil
	}
	return b, oci.ExternPresent(f)
}

// runfile is path's runfiles path: a --runfile file's, or below a --runfile directory's.
func runfile(path string, runfiles map[string]string) (string, error) {
	if r, ok := runfiles[path]; ok {
		return r, nil
	}
	for exec, r := range runfiles {
		if rest, ok := strings.CutPrefix(path, exec+"/"); ok {
			return r + "/" + rest, nil
		}
	}
	return "", fmt.Errorf("blob %s: no --runfile names it or a directory holding it", path)
}

// pairs reads KEY=VALUE flag values.
func pairs(flag string, values []string) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" || val == "" {
			return nil, fmt.Errorf("%s %q: want KEY=VALUE", flag, v)
		}
		m[k] = val
	}
	return m, nil
}

// ReadPlan reads a plan docker-tar wrote.
func ReadPlan(path string) (Plan, error) {
	var p Plan
	b, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("load plan %s: %w", path, err)
	}
	return p, nil
}

// Marshal is the plan as docker-tar writes it.
func (p Plan) Marshal() ([]byte, error) { return json.MarshalIndent(p, "", " ") }
