package apkfile

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// PkgInfo is a parsed .PKGINFO. Repeatable keys are lists; unknown keys are kept in Other.
type PkgInfo struct {
	Name             string              `json:"name"`
	Version          string              `json:"version"`
	Arch             string              `json:"arch,omitempty"`
	Description      string              `json:"description,omitempty"`
	URL              string              `json:"url,omitempty"`
	License          string              `json:"license,omitempty"`
	Origin           string              `json:"origin,omitempty"`
	Maintainer       string              `json:"maintainer,omitempty"`
	Commit           string              `json:"commit,omitempty"`
	BuildDate        string              `json:"builddate,omitempty"`
	Size             string              `json:"size,omitempty"`
	DataHash         string              `json:"datahash,omitempty"`
	ProviderPriority string              `json:"provider_priority,omitempty"`
	Depends          []string            `json:"depends,omitempty"`
	Provides         []string            `json:"provides,omitempty"`
	Replaces         []string            `json:"replaces,omitempty"`
	InstallIf        []string            `json:"install_if,omitempty"`
	Triggers         []string            `json:"triggers,omitempty"`
	Other            map[string][]string `json:"other,omitempty"`
}

// ParsePkgInfo parses "key = value" lines; '#' starts a comment line.
func ParsePkgInfo(b []byte) (*PkgInfo, error) {
	p := &PkgInfo{}
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 4096), 1<<20)
	line := 0
	for s.Scan() {
		line++
		t := s.Text()
		if strings.TrimSpace(t) == "" || strings.HasPrefix(t, "#") {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want 'key = value', got %q", line, t)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" {
			return nil, fmt.Errorf("line %d: empty key", line)
		}
		single := map[string]*string{
			"pkgname": &p.Name, "pkgver": &p.Version, "arch": &p.Arch, "pkgdesc": &p.Description,
			"url": &p.URL, "license": &p.License, "origin": &p.Origin, "maintainer": &p.Maintainer,
			"commit": &p.Commit, "builddate": &p.BuildDate, "size": &p.Size, "datahash": &p.DataHash,
			"provider_priority": &p.ProviderPriority,
		}
		multi := map[string]*[]string{
			"depend": &p.Depends, "provides": &p.Provides, "replaces": &p.Replaces,
			"install_if": &p.InstallIf, "triggers": &p.Triggers,
		}
		switch {
		case single[k] != nil:
			*single[k] = v
		case multi[k] != nil:
			*multi[k] = append(*multi[k], strings.Fields(v)...)
		default:
			if p.Other == nil {
				p.Other = map[string][]string{}
			}
			p.Other[k] = append(p.Other[k], v)
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if p.Name == "" || p.Version == "" {
		return nil, fmt.Errorf("missing pkgname or pkgver")
	}
	return p, nil
}

// DependencyName is the package name in a dependency or provides entry ("so:libc.so=1",
// "busybox>=1.36" -> "so:libc.so", "busybox").
func DependencyName(dep string) string {
	for i, c := range dep {
		if strings.ContainsRune("=<>~", c) {
			return dep[:i]
		}
	}
	return dep
}
