package locktidy

import (
	"fmt"
	"path"
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// Tidy returns data, a MODULE.bazel named filename, with one apk.translate_lock entry and
// its use_repo name per lock of locks, and the changes made (one message each, naming the
// lock and what changed; none when it was in step, and then data is returned as it was):
//
//   - a lock without an entry gets one, named RepoName of its directory;
//   - an entry naming a lock by another label than the lock's own (a BUILD file appeared
//     between them) is relabelled;
//   - an entry's name missing from use_repo is added;
//   - an entry whose lock is an apko.lock.json of this repository that exists no more
//     (exists says) is removed, with its use_repo name.
//
// Entries for other locks, and any entry with a `# keep` comment, are left as they are.
func Tidy(filename string, data []byte, locks []Lock, exists func(path string) bool) ([]byte, []string, error) {
	m, err := parseModule(filename, data)
	if err != nil {
		return nil, nil, err
	}
	t := &tidier{m: m, filename: filename}
	for _, l := range locks {
		if err := t.want(l); err != nil {
			return nil, nil, err
		}
	}
	t.dropStale(exists)
	if len(t.changes) == 0 {
		return data, nil, nil
	}
	return build.Format(m.file), t.changes, nil
}

type tidier struct {
	m        *module
	filename string
	changes  []string
}

func (t *tidier) note(format string, args ...any) {
	t.changes = append(t.changes, t.filename+": "+fmt.Sprintf(format, args...))
}

// want makes the entry of lock l and its use_repo name exist.
func (t *tidier) want(l Lock) error {
	e := t.m.byPath(l.Path)
	if e == nil {
		name := RepoName(path.Dir(l.Path))
		if other := t.m.byName(name); other != nil {
			return fmt.Errorf("%s: %s has no apk.translate_lock, and its name %q is taken by the entry for %s: add one for it by hand with another name", t.filename, l.Path, name, other.lock)
		}
		e = t.add(name, l.Label)
		t.note("added %s.translate_lock(name = %q, lock = %q) and use_repo %q: %s had none", e.proxy, name, l.Label, name, l.Path)
		return nil
	}
	if e.keep {
		return nil
	}
	if e.lock != l.Label {
		setKwarg(e.call, "lock", l.Label)
		t.note("%s.translate_lock(name = %q) names %s as %q, was %q (its package changed)", e.proxy, e.name, l.Path, l.Label, e.lock)
		e.lock = l.Label
	}
	if !t.inUseRepo(e.proxy, e.name) {
		t.addUseRepo(e, t.afterEntries(e.proxy))
		t.note("use_repo(%s, ...) gains %q, the repository of %s", e.proxy, e.name, l.Path)
	}
	return nil
}

// add appends a translate_lock call after the proxy's last entry (or its use_extension),
// and its name to the proxy's use_repo.
func (t *tidier) add(name, lock string) *entry {
	proxy := t.proxy()
	at := t.afterEntries(proxy)
	call := parseStmt(fmt.Sprintf("%s.translate_lock(name = %q, lock = %q)", proxy, name, lock)).(*build.CallExpr)
	t.insert(at, call)
	e := &entry{call: call, proxy: proxy, name: name, lock: lock}
	e.path, _ = labelPath(lock)
	t.m.entries = append(t.m.entries, e)
	t.addUseRepo(e, at+1)
	return e
}

// proxy is the variable to add entries to: the first non-dev use of the apk extension,
// else the first, else a new `apk = use_extension(...)` at the end of the file.
func (t *tidier) proxy() string {
	for _, p := range t.m.proxies {
		if !t.m.devOnly[p] {
			return p
		}
	}
	if len(t.m.proxies) > 0 {
		return t.m.proxies[0]
	}
	t.insert(len(t.m.file.Stmt)-1, parseStmt(fmt.Sprintf("apk = use_extension(\"@%s//apk:extensions.bzl\", \"apk\")", t.m.wharf)))
	t.m.proxies = append(t.m.proxies, "apk")
	return "apk"
}

// afterEntries is the index of the proxy's last translate_lock statement, or of its
// use_extension when it has none.
func (t *tidier) afterEntries(proxy string) int {
	at := -1
	for i, s := range t.m.file.Stmt {
		if a, ok := s.(*build.AssignExpr); ok {
			if id, ok := a.LHS.(*build.Ident); ok && id.Name == proxy {
				at = i
			}
		}
		for _, e := range t.m.entries {
			if s == build.Expr(e.call) && e.proxy == proxy {
				at = i
			}
		}
	}
	return at
}

// dropStale removes the entries (and use_repo names) of this repository's apko.lock.json
// files that no longer exist.
func (t *tidier) dropStale(exists func(string) bool) {
	kept := t.m.entries[:0]
	for _, e := range t.m.entries {
		if e.keep || e.path == "" || path.Base(e.path) != LockFile || exists(e.path) {
			kept = append(kept, e)
			continue
		}
		t.remove(e.call)
		t.removeUseRepo(e.proxy, e.name)
		t.note("removed %s.translate_lock(name = %q, lock = %q) and use_repo %q: %s no longer exists", e.proxy, e.name, e.lock, e.name, e.path)
	}
	t.m.entries = kept
}

// ---- statements and use_repo

func parseStmt(src string) build.Expr {
	f, err := build.ParseModule("", []byte(src+"\n"))
	if err != nil || len(f.Stmt) != 1 {
		panic(fmt.Sprintf("locktidy: bad statement %q: %v", src, err)) // our own text
	}
	return f.Stmt[0]
}

// insert puts s after statement index at (-1: first).
func (t *tidier) insert(at int, s build.Expr) {
	st := t.m.file.Stmt
	st = append(st[:at+1], append([]build.Expr{s}, st[at+1:]...)...)
	t.m.file.Stmt = st
}

func (t *tidier) remove(s build.Expr) {
	st := t.m.file.Stmt[:0]
	for _, x := range t.m.file.Stmt {
		if x != s {
			st = append(st, x)
		}
	}
	t.m.file.Stmt = st
}

func (t *tidier) useRepos(proxy string) []*build.CallExpr {
	var calls []*build.CallExpr
	for _, s := range t.m.file.Stmt {
		c, ok := s.(*build.CallExpr)
		if !ok || callName(c) != "use_repo" || len(c.List) == 0 {
			continue
		}
		if id, ok := c.List[0].(*build.Ident); ok && id.Name == proxy {
			calls = append(calls, c)
		}
	}
	return calls
}

func (t *tidier) inUseRepo(proxy, name string) bool {
	for _, c := range t.useRepos(proxy) {
		for _, a := range c.List[1:] {
			if repoArg(a) == name {
				return true
			}
		}
	}
	return false
}

// addUseRepo adds e's name to the proxy's first use_repo, or a new use_repo at index at.
func (t *tidier) addUseRepo(e *entry, at int) {
	if calls := t.useRepos(e.proxy); len(calls) > 0 {
		calls[0].List = append(calls[0].List, &build.StringExpr{Value: e.name})
		return
	}
	t.insert(at, parseStmt(fmt.Sprintf("use_repo(%s, %q)", e.proxy, e.name)))
}

// removeUseRepo drops name from the proxy's use_repo calls, and a call left with none.
func (t *tidier) removeUseRepo(proxy, name string) {
	for _, c := range t.useRepos(proxy) {
		args := c.List[:1]
		for _, a := range c.List[1:] {
			if repoArg(a) != name {
				args = append(args, a)
			}
		}
		c.List = args
		if len(args) == 1 {
			t.remove(c)
		}
	}
}

// repoArg is the repository a use_repo argument imports: "name" or `alias = "name"`.
func repoArg(a build.Expr) string {
	if as, ok := a.(*build.AssignExpr); ok {
		return str(as.RHS)
	}
	return str(a)
}

func setKwarg(c *build.CallExpr, key, value string) {
	for _, a := range c.List {
		if as, ok := a.(*build.AssignExpr); ok {
			if id, ok := as.LHS.(*build.Ident); ok && id.Name == key {
				as.RHS = &build.StringExpr{Value: value}
				return
			}
		}
	}
	c.List = append(c.List, &build.AssignExpr{LHS: &build.Ident{Name: key}, Op: "=", RHS: &build.StringExpr{Value: value}})
}

// String is a summary of changes for a log: one per line, or that nothing changed.
func String(filename string, locks []Lock, changes []string) string {
	if len(changes) == 0 {
		return fmt.Sprintf("%s: in step with the %d %s files of the tree", filename, len(locks), LockFile)
	}
	return strings.Join(changes, "\n")
}
