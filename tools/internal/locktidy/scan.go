// Package locktidy keeps a module's MODULE.bazel in step with the apko locks in its tree:
// one `apk.translate_lock` entry, and its name in `use_repo`, per apko.lock.json. It names
// each lock's repository as the gazelle extension (tools/gazelle) refers to it, so the
// images gazelle writes and the repositories this package declares agree.
package locktidy

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// LockFile is the name of the locks this package manages: `apko lock` and `apk_lock` write it.
const LockFile = "apko.lock.json"

// Lock is an apko.lock.json in the tree.
type Lock struct {
	Path  string // slash-separated, relative to the workspace root
	Label string // the file's label in the main repository, e.g. //svc/api:apko.lock.json
}

// RepoName is the repository name a lock in directory dir (slash-separated, relative to
// the root) gets when MODULE.bazel has no entry for it: "apko" for the root, else
// "apko_" and the path with every character but letters and digits made "_"
// (svc/api-v2 → apko_svc_api_v2). The prefix keeps it clear of the extension's package
// repositories (apk_<arch>_<name>) and makes it start with a letter.
func RepoName(dir string) string {
	if dir == "" || dir == "." {
		return "apko"
	}
	b := []byte(dir)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return "apko_" + string(b)
}

// Scan finds the apko.lock.json files under root, in path order, with their labels. It does
// not descend into hidden directories, Bazel's convenience links, directories listed in
// .bazelignore, or nested modules (a directory with its own MODULE.bazel, REPO.bazel or
// WORKSPACE file).
func Scan(root string) ([]Lock, error) {
	ignored, err := readBazelignore(root)
	if err != nil {
		return nil, err
	}
	var locks []Lock
	walk := func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("looking for %s files: %w", LockFile, err)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("looking for %s files: %w", LockFile, err)
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && skipDir(p, d.Name(), rel, ignored) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == LockFile && d.Type().IsRegular() {
			locks = append(locks, Lock{Path: rel, Label: label(root, rel)})
		}
		return nil
	}
	if err := filepath.WalkDir(root, walk); err != nil {
		return nil, err
	}
	sort.Slice(locks, func(i, j int) bool { return locks[i].Path < locks[j].Path })
	return locks, nil
}

func skipDir(p, name, rel string, ignored map[string]bool) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "bazel-") || ignored[rel] {
		return true
	}
	for _, f := range []string{"MODULE.bazel", "REPO.bazel", "WORKSPACE", "WORKSPACE.bazel"} {
		if _, err := os.Stat(filepath.Join(p, f)); err == nil {
			return true
		}
	}
	return false
}

// readBazelignore reads root/.bazelignore: one directory per line, # comments.
func readBazelignore(root string) (map[string]bool, error) {
	ignored := map[string]bool{}
	f, err := os.Open(filepath.Join(root, ".bazelignore"))
	if os.IsNotExist(err) {
		return ignored, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading .bazelignore: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" && !strings.HasPrefix(l, "#") {
			ignored[path.Clean(strings.TrimSuffix(l, "/"))] = true
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("reading .bazelignore: %w", err)
	}
	return ignored, nil
}

// label is the label of the file rel: its package is the nearest directory at or above it
// with a BUILD file (the root package otherwise).
func label(root, rel string) string {
	dir := path.Dir(rel)
	for {
		if dir == "." {
			return "//:" + rel
		}
		for _, b := range []string{"BUILD.bazel", "BUILD"} {
			if st, err := os.Stat(filepath.Join(root, dir, b)); err == nil && st.Mode().IsRegular() {
				return "//" + dir + ":" + strings.TrimPrefix(rel, dir+"/")
			}
		}
		dir = path.Dir(dir)
	}
}

// labelPath is the path, relative to the root, of a main-repository file label
// ("//a:b/c", "@//a:b", "@@//:c", ":c"); ok is false for other repositories' labels.
func labelPath(l string) (string, bool) {
	switch {
	case strings.HasPrefix(l, "@@//"):
		l = l[2:]
	case strings.HasPrefix(l, "@//"):
		l = l[1:]
	case strings.HasPrefix(l, ":"):
		l = "//" + l
	}
	if !strings.HasPrefix(l, "//") {
		return "", false
	}
	pkg, name, ok := strings.Cut(l[2:], ":")
	if !ok {
		name = path.Base(pkg)
	}
	return path.Join(pkg, name), true
}
