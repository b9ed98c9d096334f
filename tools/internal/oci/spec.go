package oci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// SpecFile is the JSON an image rule encodes at analysis time (the image verb's --spec-json),
// and the form of image config defaults (its --defaults, which apko-image-config writes).
type SpecFile struct {
	OS           string            `json:"os,omitempty"`
	Architecture string            `json:"architecture,omitempty"`
	Variant      string            `json:"variant,omitempty"`
	Entrypoint   *[]string         `json:"entrypoint,omitempty"`
	Cmd          *[]string         `json:"cmd,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
	User         string            `json:"user,omitempty"`
	WorkingDir   string            `json:"workdir,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	ExposedPorts []string          `json:"exposed_ports,omitempty"`
	Volumes      []string          `json:"volumes,omitempty"`
	StopSignal   string            `json:"stop_signal,omitempty"`
	Created      string            `json:"created,omitempty"`
}

// ParseSpecFile reads a spec file; unknown keys are errors.
func ParseSpecFile(b []byte) (*SpecFile, error) {
	var sf SpecFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil {
		return nil, err
	}
	return &sf, nil
}

// Marshal renders the spec file as indented JSON, keys in order.
func (s *SpecFile) Marshal() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}

// ApplyDefaults puts d's values under s's: entrypoint and cmd when s has none, user,
// workdir and stop signal when s's is empty; env, annotations and labels merged key by
// key, s's value winning; volumes the sorted union. Defaults may set nothing else.
func (s *SpecFile) ApplyDefaults(d *SpecFile) error {
	for _, f := range []struct{ key, v string }{
		{"os", d.OS}, {"architecture", d.Architecture}, {"variant", d.Variant}, {"created", d.Created},
	} {
		if f.v != "" {
			return fmt.Errorf("sets %s, which is no default (only entrypoint, cmd, env, user, workdir, labels, annotations, volumes, stop_signal are)", f.key)
		}
	}
	if len(d.ExposedPorts) > 0 {
		return fmt.Errorf("sets exposed_ports, which is no default (only entrypoint, cmd, env, user, workdir, labels, annotations, volumes, stop_signal are)")
	}
	if s.Entrypoint == nil {
		s.Entrypoint = d.Entrypoint
	}
	if s.Cmd == nil {
		s.Cmd = d.Cmd
	}
	for _, f := range []struct{ over, base *string }{{&s.User, &d.User}, {&s.WorkingDir, &d.WorkingDir}, {&s.StopSignal, &d.StopSignal}} {
		if *f.over == "" {
			*f.over = *f.base
		}
	}
	s.Env = MergeUnder(s.Env, d.Env)
	s.Annotations = MergeUnder(s.Annotations, d.Annotations)
	s.Labels = MergeUnder(s.Labels, d.Labels)
	if len(d.Volumes) > 0 {
		vols := map[string]bool{}
		for _, v := range append(append([]string{}, s.Volumes...), d.Volumes...) {
			vols[v] = true
		}
		s.Volumes = s.Volumes[:0]
		for v := range vols {
			s.Volumes = append(s.Volumes, v)
		}
		sort.Strings(s.Volumes)
	}
	return nil
}

// MergeUnder returns base's entries with over's on top.
func MergeUnder(over, base map[string]string) map[string]string {
	if len(base) == 0 {
		return over
	}
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// CheckEnv refuses an environment the config cannot carry (CheckEnv), naming the first
// bad variable in key order.
func (s *SpecFile) CheckEnv() error {
	for _, k := range SortedKeys(s.Env) {
		if err := CheckEnv(k, s.Env[k]); err != nil {
			return err
		}
	}
	return nil
}

// ImageSpec is the image spec the spec file describes, without layers or base. It refuses
// an environment the config cannot carry (CheckEnv) and a created time that is not RFC 3339.
func (s *SpecFile) ImageSpec() (*ImageSpec, error) {
	if err := s.CheckEnv(); err != nil {
		return nil, err
	}
	spec := &ImageSpec{
		OS: s.OS, Architecture: s.Architecture, Variant: s.Variant,
		User: s.User, WorkingDir: s.WorkingDir, Labels: s.Labels, Annotations: s.Annotations,
		ExposedPorts: s.ExposedPorts, Volumes: s.Volumes, StopSignal: s.StopSignal,
		Created: time.Unix(0, 0).UTC(),
	}
	if s.Entrypoint != nil {
		spec.Entrypoint, spec.EntrypointSet = *s.Entrypoint, true
	}
	if s.Cmd != nil {
		spec.Cmd, spec.CmdSet = *s.Cmd, true
	}
	for _, k := range SortedKeys(s.Env) {
		spec.Env = append(spec.Env, k+"="+s.Env[k])
	}
	if s.Created != "" {
		var err error
		if spec.Created, err = time.Parse(time.RFC3339, s.Created); err != nil {
			return nil, fmt.Errorf("created: %w", err)
		}
	}
	return spec, nil
}

// CheckEnv refuses a variable the config's "K=V" strings cannot carry: the first '=' ends
// the name, so a name with '=' (or an empty one) would silently become another variable,
// and NUL cuts the string short in every runtime's execve.
func CheckEnv(k, v string) error {
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
