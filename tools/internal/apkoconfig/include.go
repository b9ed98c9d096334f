package apkoconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
)

// LoadFiles is Load that also returns the bytes apko's configuration checksum covers: the
// file's, then each included file's, in the order apko reads them.
//
// `include` is apko v1.2.39's (deprecated there, still read): the included file, found
// relative to the top configuration's directory (where apko runs; it looks in its working
// directory, then in --include-paths), is merged under this one as apko's MergeInto does:
// lists (packages, repositories, keyrings, users, groups, paths, volumes) included first,
// maps key by key and single values only where this file has none. An include of a file
// already being read is an error (apko recurses until it runs out of stack).
func LoadFiles(path string) (*Config, []byte, error) {
	raw, data, err := loadRaw(path, filepath.Dir(path), nil)
	if err != nil {
		return nil, nil, err
	}
	c, err := convert(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, data, nil
}

// loadRaw reads path and what it includes; chain is the files being read, outermost first.
func loadRaw(path, dir string, chain []string) (*rawConfig, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	raw, err := decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if raw.Include == "" {
		return raw, data, nil
	}
	inc := raw.Include
	if !filepath.IsAbs(inc) {
		inc = filepath.Join(dir, inc)
	}
	chain = append(chain, filepath.Clean(path))
	if slices.Contains(chain, filepath.Clean(inc)) {
		return nil, nil, fmt.Errorf("%s: include %s: it is already being read (%v): an include cycle", path, raw.Include, chain)
	}
	included, incData, err := loadRaw(inc, dir, chain)
	if errors.Is(err, fs.ErrNotExist) {
		// In a Bazel action, only declared inputs are there.
		return nil, nil, fmt.Errorf("%s: include %s: %w (with Bazel: list it in apko_config_includes of the image, config_includes of apk_lock)", path, raw.Include, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: include %s: %w", path, raw.Include, err)
	}
	mergeInto(included, raw)
	raw.Include = ""
	return raw, append(data, incData...), nil
}

// mergeInto merges inc under target as apko's ImageConfiguration.MergeInto: target's values
// win; vcs-url is not merged.
func mergeInto(inc, target *rawConfig) {
	if reflect.ValueOf(target.Entrypoint).IsZero() {
		target.Entrypoint = inc.Entrypoint
	}
	first(&target.Cmd, inc.Cmd)
	first(&target.StopSignal, inc.StopSignal)
	first(&target.WorkDir, inc.WorkDir)
	first(&target.Format, inc.Format)
	if target.Layering == nil {
		target.Layering = inc.Layering
	}
	if target.Certificates == nil {
		target.Certificates = inc.Certificates
	}
	if len(target.Archs) == 0 {
		target.Archs = inc.Archs
	}
	first(&target.Accounts.RunAs, inc.Accounts.RunAs)
	target.Accounts.Users = slices.Concat(inc.Accounts.Users, target.Accounts.Users)
	target.Accounts.Groups = slices.Concat(inc.Accounts.Groups, target.Accounts.Groups)
	target.Environment = underlay(target.Environment, inc.Environment)
	target.Annotations = underlay(target.Annotations, inc.Annotations)
	target.Paths = slices.Concat(inc.Paths, target.Paths)
	target.Volumes = slices.Concat(inc.Volumes, target.Volumes)
	c, t := &inc.Contents, &target.Contents
	t.Keyring = slices.Concat(c.Keyring, t.Keyring)
	t.RuntimeKeyring = slices.Concat(c.RuntimeKeyring, t.RuntimeKeyring)
	t.BuildRepositories = slices.Concat(c.BuildRepositories, t.BuildRepositories)
	t.RuntimeRepositories = slices.Concat(c.RuntimeRepositories, t.RuntimeRepositories)
	t.Repositories = slices.Concat(c.Repositories, t.Repositories)
	t.Packages = slices.Concat(c.Packages, t.Packages)
	if t.BaseImage.IsZero() {
		t.BaseImage = c.BaseImage
	}
}

// first sets *dst to v when it is empty.
func first(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// underlay adds inc's keys that m does not have.
func underlay(m, inc map[string]string) map[string]string {
	if m == nil {
		return maps.Clone(inc)
	}
	for k, v := range inc {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m
}
