package verbs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// imageSpecFile is the JSON an image rule writes at analysis time.
type imageSpecFile struct {
	OS           string            `json:"os"`
	Architecture string            `json:"architecture"`
	Variant      string            `json:"variant"`
	Entrypoint   *[]string         `json:"entrypoint"`
	Cmd          *[]string         `json:"cmd"`
	Env          map[string]string `json:"env"`
	User         string            `json:"user"`
	WorkingDir   string            `json:"workdir"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	ExposedPorts []string          `json:"exposed_ports"`
	Volumes      []string          `json:"volumes"`
	StopSignal   string            `json:"stop_signal"`
	Created      string            `json:"created"`
}

func imageVerb(args []string) error {
	var layers, baseLayers, baseExtern cli.Strings
	var specPath, baseConfig, configOut, manifestOut, digestOut, descriptorOut string
	var apkoConfig, apkoUser, apkArch string
	var apkLayerBudget int
	fs := newFlags("image")
	fs.Var(&layers, "layer", "layer metadata JSON, bottom first (repeatable)")
	fs.StringVar(&baseConfig, "base-config", "", "the base image's config JSON")
	fs.Var(&baseLayers, "base-layer", "the base image's layer metadata JSON, bottom first (repeatable)")
	fs.Var(&baseExtern, "base-extern", "LAYERS_JSON=DIR: base layers kept in a layout directory, below any --base-layer (repeatable)")
	fs.StringVar(&specPath, "spec", "", "image spec JSON (config, platform)")
	fs.StringVar(&apkoConfig, "apko-config", "", "apko.yaml: entrypoint, cmd, environment, work-dir, run-as, annotations, volumes, stop-signal below the spec's own values")
	fs.StringVar(&apkoUser, "apko-user", "", "with --apko-config: the run-as user as resolved by apko-layer")
	fs.StringVar(&apkArch, "apk-arch", "", "with --apko-config: the APK architecture built (checked against archs)")
	fs.IntVar(&apkLayerBudget, "apk-layer-budget", 0, "with --apko-config: the rule's apk_layer_budget (checked against layering.budget)")
	fs.StringVar(&configOut, "config", "", "output: config JSON")
	fs.StringVar(&manifestOut, "manifest", "", "output: manifest JSON")
	fs.StringVar(&digestOut, "digest", "", "output: manifest digest (sha256:…)")
	fs.StringVar(&descriptorOut, "descriptor", "", "output: manifest descriptor JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("spec", specPath, "config", configOut, "manifest", manifestOut, "digest", digestOut, "descriptor", descriptorOut); err != nil {
		return err
	}
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var sf imageSpecFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil {
		return fmt.Errorf("spec %s: %w", specPath, err)
	}
	if apkoConfig != "" {
		if err := cli.Require("apk-arch", apkArch); err != nil {
			return err
		}
		if err := applyApkoConfig(&sf, apkoConfig, apkoUser, apkArch, apkLayerBudget); err != nil {
			return err
		}
	}
	spec := &oci.ImageSpec{
		OS: sf.OS, Architecture: sf.Architecture, Variant: sf.Variant,
		User: sf.User, WorkingDir: sf.WorkingDir, Labels: sf.Labels, Annotations: sf.Annotations,
		ExposedPorts: sf.ExposedPorts, Volumes: sf.Volumes, StopSignal: sf.StopSignal,
		Created: time.Unix(0, 0).UTC(),
	}
	if sf.Entrypoint != nil {
		spec.Entrypoint, spec.EntrypointSet = *sf.Entrypoint, true
	}
	if sf.Cmd != nil {
		spec.Cmd, spec.CmdSet = *sf.Cmd, true
	}
	for _, k := range oci.SortedKeys(sf.Env) {
		if err := checkEnv(k, sf.Env[k]); err != nil {
			return fmt.Errorf("spec %s: %w", specPath, err)
		}
		spec.Env = append(spec.Env, k+"="+sf.Env[k])
	}
	if sf.Created != "" {
		if spec.Created, err = time.Parse(time.RFC3339, sf.Created); err != nil {
			return fmt.Errorf("spec: created: %w", err)
		}
	}
	for _, l := range layers {
		m, err := layer.ReadMetadata(l)
		if err != nil {
			return err
		}
		spec.Layers = append(spec.Layers, m)
	}
	if baseConfig != "" {
		b, err := os.ReadFile(baseConfig)
		if err != nil {
			return err
		}
		if spec.Base, err = v1.ParseConfigFile(bytes.NewReader(b)); err != nil {
			return fmt.Errorf("base config %s: %w", baseConfig, err)
		}
		ext, err := readExtern(baseExtern)
		if err != nil {
			return err
		}
		for _, e := range ext {
			spec.BaseLayers = append(spec.BaseLayers, e.meta)
		}
		for _, l := range baseLayers {
			m, err := layer.ReadMetadata(l)
			if err != nil {
				return err
			}
			spec.BaseLayers = append(spec.BaseLayers, m)
		}
	}
	built, err := oci.Build(spec)
	if err != nil {
		return err
	}
	desc, err := json.Marshal(built.Descriptor)
	if err != nil {
		return err
	}
	var outs atomicfile.Set
	defer outs.Abort()
	// In the order they are published: what describes the others last (atomicfile.Set).
	for _, o := range []struct {
		path string
		data []byte
	}{
		{configOut, built.Config},
		{manifestOut, built.Manifest},
		{digestOut, []byte(built.Descriptor.Digest.String())},
		{descriptorOut, desc},
	} {
		if err := outs.WriteFile(o.path, o.data); err != nil {
			return err
		}
	}
	return outs.Commit()
}

// checkEnv refuses a variable the config's "K=V" strings cannot carry: the first '=' ends
// the name, so a name with '=' (or an empty one) would silently become another variable,
// and NUL cuts the string short in every runtime's execve.
func checkEnv(k, v string) error {
	switch {
	case k == "":
		return fmt.Errorf("env: empty variable name (value %q)", v)
	case strings.Contains(k, "="):
		return fmt.Errorf("env: variable name %q contains '=': the runtime would read it as %q", k, k[:strings.Index(k, "=")])
	case strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0):
		return fmt.Errorf("env: variable %q contains a NUL byte, which no process environment can hold", k)
	}
	return nil
}

// readDescriptor reads a descriptor an earlier action wrote and checks what a manifest or
// index built from it relies on.
func readDescriptor(path string) (v1.Descriptor, error) {
	var d v1.Descriptor
	b, err := os.ReadFile(path)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("descriptor %s: %w", path, err)
	}
	switch {
	case d.MediaType == "":
		return d, fmt.Errorf("descriptor %s: no mediaType", path)
	case d.Digest.Algorithm != "sha256" || len(d.Digest.Hex) != 64:
		return d, fmt.Errorf("descriptor %s: digest %q is not a sha256 digest", path, d.Digest)
	case d.Size <= 0:
		return d, fmt.Errorf("descriptor %s: size %d (a manifest is never empty)", path, d.Size)
	case d.Platform != nil && (d.Platform.OS == "" || d.Platform.Architecture == ""):
		return d, fmt.Errorf("descriptor %s: platform %q has no os or architecture", path, d.Platform.OS+"/"+d.Platform.Architecture)
	}
	return d, nil
}
