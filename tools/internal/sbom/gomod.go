package sbom

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// GoModFile is what a go.mod and its go.sum say about a build: the main module, the
// modules it requires with their replacements, and the checksums.
type GoModFile struct {
	path    string
	main    string
	require map[string]GoModule
	sums    map[string]string // "path version" -> h1:...
}

// ReadGoMod reads go.mod (and go.sum, when sumPath is set).
func ReadGoMod(modPath, sumPath string) (*GoModFile, error) {
	b, err := os.ReadFile(modPath)
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(modPath, b, nil)
	if err != nil {
		return nil, err
	}
	if f.Module == nil {
		return nil, fmt.Errorf("%s: no module line", modPath)
	}
	m := &GoModFile{path: modPath, main: f.Module.Mod.Path, require: map[string]GoModule{}, sums: map[string]string{}}
	for _, r := range f.Require {
		m.require[r.Mod.Path] = GoModule{Path: r.Mod.Path, Version: r.Mod.Version}
	}
	for _, r := range f.Replace {
		req, ok := m.require[r.Old.Path]
		if ok && (r.Old.Version == "" || r.Old.Version == req.Version) {
			req.ReplacePath, req.ReplaceVersion = r.New.Path, r.New.Version
			m.require[r.Old.Path] = req
		}
	}
	if sumPath != "" {
		if err := m.readSums(sumPath); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// readSums reads go.sum's module checksums (not the /go.mod ones).
func (m *GoModFile) readSums(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; s.Scan(); n++ {
		f := strings.Fields(s.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !strings.HasPrefix(f[2], "h1:") {
			return fmt.Errorf("%s:%d: not a go.sum line: %q", path, n, s.Text())
		}
		if !strings.HasSuffix(f[1], "/go.mod") {
			m.sums[f[0]+" "+f[1]] = f[2]
		}
	}
	return s.Err()
}

// Main is the main module's path.
func (m *GoModFile) Main() string { return m.main }

// Modules are the modules of go.mod's requirements that hold the packages (import path to
// the label that builds it, for messages), sorted by path; packages of the main module are
// not listed. A package in no required module is an error naming it.
func (m *GoModFile) Modules(packages map[string]string) ([]GoModule, error) {
	found := map[string]GoModule{}
	for _, ip := range slices.Sorted(maps.Keys(packages)) {
		if within(ip, m.main) {
			continue
		}
		mod, ok := m.moduleOf(ip)
		if !ok {
			return nil, fmt.Errorf("package %s (%s) is in no module that %s requires", ip, packages[ip], m.path)
		}
		found[mod.Path] = mod
	}
	out := make([]GoModule, 0, len(found))
	for _, p := range slices.Sorted(maps.Keys(found)) {
		out = append(out, found[p])
	}
	return out, nil
}

// moduleOf is the required module whose path is the longest prefix of ip, with its sum.
func (m *GoModFile) moduleOf(ip string) (GoModule, bool) {
	best, ok := GoModule{}, false
	for p, mod := range m.require {
		if within(ip, p) && len(p) > len(best.Path) {
			best, ok = mod, true
		}
	}
	if ok {
		path, version := best.Path, best.Version
		if best.ReplacePath != "" {
			path, version = best.ReplacePath, best.ReplaceVersion
		}
		best.Sum = m.sums[path+" "+version]
	}
	return best, ok
}

// within says whether the package ip is in the module mod (the module path or below it).
func within(ip, mod string) bool {
	return ip == mod || strings.HasPrefix(ip, mod+"/")
}
