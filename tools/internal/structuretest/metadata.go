package structuretest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ReadImageConfig reads an image config JSON as CST's tar driver presents it.
func ReadImageConfig(file string) (ImageConfig, *v1.ConfigFile, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return ImageConfig{}, nil, err
	}
	var cf v1.ConfigFile
	if err := json.Unmarshal(b, &cf); err != nil {
		return ImageConfig{}, nil, fmt.Errorf("image config %s: %w", file, err)
	}
	c := cf.Config
	out := ImageConfig{Env: map[string]string{}, Entrypoint: c.Entrypoint, Cmd: c.Cmd, Workdir: c.WorkingDir, User: c.User, Labels: c.Labels}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		out.Env[k] = v
	}
	for p := range c.ExposedPorts {
		out.ExposedPorts = append(out.ExposedPorts, strings.Split(p, "/")[0])
	}
	for v := range c.Volumes {
		out.Volumes = append(out.Volumes, v)
	}
	sort.Strings(out.ExposedPorts)
	sort.Strings(out.Volumes)
	return out, &cf, nil
}

func (m MetadataTest) run(c ImageConfig) *Result {
	r := newResult("Metadata Test")
	checkPairs(r, "env var", m.EnvVars, c.Env)
	for _, kv := range m.UnboundEnvVars {
		if _, ok := c.Env[kv.Key]; ok {
			r.errorf("env variable %s should not be present in image metadata", kv.Key)
		}
	}
	checkPairs(r, "label", m.Labels, c.Labels)
	checkList(r, "Cmd", m.Cmd, c.Cmd)
	checkList(r, "Entrypoint", m.Entrypoint, c.Entrypoint)
	if m.Workdir != "" && m.Workdir != c.Workdir {
		r.errorf("Image workdir %s does not match config workdir: %s", c.Workdir, m.Workdir)
	}
	if m.User != "" && m.User != c.User {
		r.errorf("Image user %s does not match config user: %s", c.User, m.User)
	}
	for _, p := range m.ExposedPorts {
		if !slices.Contains(c.ExposedPorts, p) {
			r.errorf("Port %s not found in config (exposed: %v)", p, c.ExposedPorts)
		}
	}
	for _, p := range m.UnexposedPorts {
		if slices.Contains(c.ExposedPorts, p) {
			r.errorf("Port %s should not be exposed", p)
		}
	}
	for _, v := range m.Volumes {
		if !slices.Contains(c.Volumes, v) {
			r.errorf("Volume %s not found in config (volumes: %v)", v, c.Volumes)
		}
	}
	for _, v := range m.UnmountedVolumes {
		if slices.Contains(c.Volumes, v) {
			r.errorf("Volume %s should not be mounted", v)
		}
	}
	return r
}

func checkPairs(r *Result, what string, want []KeyValue, got map[string]string) {
	for _, kv := range want {
		val, ok := got[kv.Key]
		if !ok {
			r.errorf("%s %s not found in image metadata", what, kv.Key)
			continue
		}
		match := kv.Value == val
		if kv.IsRegex {
			var err error
			if match, err = matches(kv.Value, val, true); err != nil {
				r.errorf("%s %s: %v", what, kv.Key, err)
				continue
			}
		}
		if !match {
			r.errorf("%s %s value %s does not match expected value: %s", what, kv.Key, val, kv.Value)
		}
	}
}

func checkList(r *Result, what string, want *[]string, got []string) {
	if want != nil && !slices.Equal(*want, got) {
		r.errorf("Image %s %q does not match expected %s: %q", what, got, what, *want)
	}
}
