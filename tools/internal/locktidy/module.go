package locktidy

import (
	"path"
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// entry is one `apk.translate_lock(...)` call of rules_wharf's apk extension.
type entry struct {
	call  *build.CallExpr
	proxy string // the extension's variable, e.g. apk
	name  string
	lock  string // the lock label as written
	path  string // the lock's path when it is a main-repository label, else ""
	keep  bool   // a # keep comment: never changed or removed
}

// module is a parsed MODULE.bazel and the apk extension's uses in it.
type module struct {
	file    *build.File
	wharf   string   // rules_wharf's apparent repository name
	proxies []string // variables bound to use_extension(".../apk:extensions.bzl", "apk")
	devOnly map[string]bool
	entries []*entry
}

func parseModule(filename string, data []byte) (*module, error) {
	f, err := build.ParseModule(filename, data)
	if err != nil {
		return nil, err // buildtools' error names the file, line and column
	}
	m := &module{file: f, wharf: "rules_wharf", devOnly: map[string]bool{}}
	for _, s := range f.Stmt {
		if c, ok := s.(*build.CallExpr); ok && callName(c) == "bazel_dep" && kwarg(c, "name") == "rules_wharf" {
			if r := kwarg(c, "repo_name"); r != "" {
				m.wharf = r
			}
		}
	}
	for _, s := range f.Stmt {
		m.addProxy(s)
	}
	for _, s := range f.Stmt {
		m.addEntry(s)
	}
	return m, nil
}

// addProxy records `X = use_extension("@rules_wharf//apk:extensions.bzl", "apk")`.
func (m *module) addProxy(s build.Expr) {
	a, ok := s.(*build.AssignExpr)
	if !ok {
		return
	}
	id, ok := a.LHS.(*build.Ident)
	c, isCall := a.RHS.(*build.CallExpr)
	if !ok || !isCall || callName(c) != "use_extension" || len(c.List) < 2 {
		return
	}
	if !m.isApkExtension(str(c.List[0])) || str(c.List[1]) != "apk" {
		return
	}
	m.proxies = append(m.proxies, id.Name)
	if v, ok := kwargExpr(c, "dev_dependency").(*build.Ident); ok && v.Name == "True" {
		m.devOnly[id.Name] = true
	}
}

func (m *module) isApkExtension(l string) bool {
	repo, p, ok := strings.Cut(strings.TrimLeft(l, "@"), "//")
	return ok && p == "apk:extensions.bzl" && (repo == "" || repo == "rules_wharf" || repo == m.wharf)
}

// addEntry records `X.translate_lock(name = ..., lock = ...)` for a proxy X.
func (m *module) addEntry(s build.Expr) {
	c, ok := s.(*build.CallExpr)
	if !ok {
		return
	}
	d, ok := c.X.(*build.DotExpr)
	if !ok || d.Name != "translate_lock" {
		return
	}
	x, ok := d.X.(*build.Ident)
	if !ok || !m.isProxy(x.Name) {
		return
	}
	e := &entry{call: c, proxy: x.Name, name: kwarg(c, "name"), lock: kwarg(c, "lock"), keep: hasKeep(c)}
	if p, ok := labelPath(e.lock); ok {
		e.path = p
	}
	m.entries = append(m.entries, e)
}

func (m *module) isProxy(name string) bool {
	for _, p := range m.proxies {
		if p == name {
			return true
		}
	}
	return false
}

func (m *module) byPath(p string) *entry {
	for _, e := range m.entries {
		if e.path == p {
			return e
		}
	}
	return nil
}

func (m *module) byName(name string) *entry {
	for _, e := range m.entries {
		if e.name == name {
			return e
		}
	}
	return nil
}

// Repos reads a MODULE.bazel and returns, for each lock file of the main repository that
// an apk.translate_lock names, the repository name it gives (keyed by the lock's path
// relative to the root).
func Repos(filename string, data []byte) (map[string]string, error) {
	m, err := parseModule(filename, data)
	if err != nil {
		return nil, err
	}
	repos := map[string]string{}
	for _, e := range m.entries {
		if e.path != "" && e.name != "" {
			repos[e.path] = e.name
		}
	}
	return repos, nil
}

// RepoFor is the repository name for the lock at p (relative to the root): the one
// MODULE.bazel gives it (repos, from Repos), else RepoName of its directory.
func RepoFor(repos map[string]string, p string) string {
	if r, ok := repos[p]; ok {
		return r
	}
	return RepoName(path.Dir(p))
}

// ---- small syntax helpers

func callName(c *build.CallExpr) string {
	if id, ok := c.X.(*build.Ident); ok {
		return id.Name
	}
	return ""
}

func kwargExpr(c *build.CallExpr, key string) build.Expr {
	for _, a := range c.List {
		if as, ok := a.(*build.AssignExpr); ok {
			if id, ok := as.LHS.(*build.Ident); ok && id.Name == key {
				return as.RHS
			}
		}
	}
	return nil
}

func kwarg(c *build.CallExpr, key string) string { return str(kwargExpr(c, key)) }

func str(e build.Expr) string {
	if s, ok := e.(*build.StringExpr); ok {
		return s.Value
	}
	return ""
}

// hasKeep reports a `# keep` comment before or after the call, as gazelle marks its rules.
func hasKeep(c *build.CallExpr) bool {
	for _, cs := range [][]build.Comment{c.Comments.Before, c.Comments.Suffix, c.Comments.After} {
		for _, k := range cs {
			if strings.TrimSpace(strings.TrimPrefix(k.Token, "#")) == "keep" {
				return true
			}
		}
	}
	return false
}
