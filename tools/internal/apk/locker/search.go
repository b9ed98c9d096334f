package locker

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/redact"
)

// binDirs are the directories whose files abuild and melange name in `cmd:` provides.
var binDirs = []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin"}

// query is one search term: a glob over package names and provided names, or over
// provided names only (a `prefix:` term, or what a path stands for).
type query struct {
	text    string // as the user gave it
	pattern string // matched against provided names (and package names when names)
	names   bool   // plain term: package names match too
	literal string // a path term also matches a provide named by the path itself (Alpine's /bin/sh)
	via     string // the provides a path term is searched as, for the output
}

// parseQuery reads a search term: `cmd:NAME`, `so:NAME`, `pc:NAME` (any `prefix:`), a
// package name, or an absolute path, each possibly a glob (`*`, `?`, `[...]`).
func parseQuery(s string) (query, error) {
	if s == "" {
		return query{}, errors.New("search: an empty term")
	}
	if _, err := path.Match(s, ""); err != nil {
		return query{}, fmt.Errorf("search %s: not a valid glob: %w", s, err)
	}
	switch {
	case strings.HasPrefix(s, "/"):
		return pathQuery(s)
	case strings.Contains(s, ":"):
		return query{text: s, pattern: s}, nil
	}
	return query{text: s, pattern: s, names: true}, nil
}

// pathQuery turns a path into the provides abuild and melange generate from such files:
// an APKINDEX lists no files, so a path is only found through them.
func pathQuery(s string) (query, error) {
	dir, base := path.Split(path.Clean(s))
	dir = strings.TrimSuffix(dir, "/")
	q := query{text: s, literal: path.Clean(s)}
	switch {
	case strings.ContainsAny(dir, "*?["):
		return query{}, fmt.Errorf("search %s: a glob in a path's directory cannot be searched; glob the file name only (e.g. /usr/bin/cu*)", s)
	case slices.Contains(binDirs, dir):
		q.pattern = "cmd:" + base
	case strings.HasSuffix(dir, "/pkgconfig") && strings.HasSuffix(base, ".pc"):
		q.pattern = "pc:" + strings.TrimSuffix(base, ".pc")
	case strings.Contains(base, ".so"):
		q.pattern = "so:" + base
	default:
		return query{}, fmt.Errorf("search %s: the repositories' APKINDEX lists no files, only package names and what they provide, and apk-tools and apko answer which package owns a path only for installed packages (apk info --who-owns); a path is searched through the provides packages generate from it: cmd: for %s, so: for shared libraries, pc: for pkgconfig/*.pc", s, strings.Join(binDirs, ", "))
	}
	q.via = q.pattern
	return q, nil
}

// matches reports whether an index entry answers the query.
func (q query) matches(e *index.IndexEntry) bool {
	if q.names && globMatch(q.pattern, e.Name) {
		return true
	}
	for _, p := range e.Provides {
		name, _, _ := strings.Cut(p, "=")
		if globMatch(q.pattern, name) || (q.literal != "" && globMatch(q.literal, name)) {
			return true
		}
	}
	return false
}

func globMatch(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// hit is the newest version of one package answering a query in one repository.
type hit struct {
	arch, repo string
	entry      *index.IndexEntry
}

// Search answers each query from the configuration's repositories' signed APKINDEXes
// (verified against its keyring as Generate verifies them), for each architecture: the
// newest version of each package that matches in each repository, and what each of locks
// (paths; a missing one says so) has of it. A query nothing matches is an error, after
// every query is answered. Its errors show URLs' userinfo masked.
func Search(o Options, queries []string, locks []string, w io.Writer) error {
	return redact.Error(search(o, queries, locks, w))
}

func search(o Options, terms []string, locks []string, w io.Writer) error {
	if len(terms) == 0 {
		return errors.New("search: give what to look for: cmd:NAME, so:NAME, pc:NAME, a package name or a path, globs allowed (e.g. search cmd:curl '/usr/bin/cu*')")
	}
	var qs []query
	for _, t := range terms {
		q, err := parseQuery(t)
		if err != nil {
			return err
		}
		qs = append(qs, q)
	}
	in, err := load(&o)
	if err != nil {
		return err
	}
	locked, err := readLocks(locks)
	if err != nil {
		return err
	}
	hits, searched, err := in.searchIndexes(o, qs)
	if err != nil {
		return err
	}
	return report(w, qs, hits, locked, searched)
}

// searchIndexes reads and verifies every repository's index for every architecture and
// collects each query's hits; searched names the indexes read.
func (in *input) searchIndexes(o Options, qs []query) (map[string][]hit, []string, error) {
	f, err := newFetcher(in.dir, o)
	if err != nil {
		return nil, nil, err
	}
	ring, err := f.keyring(in.cfg.Contents.Keyring)
	if err != nil {
		return nil, nil, err
	}
	lines, err := in.repoLines()
	if err != nil {
		return nil, nil, err
	}
	hits := map[string][]hit{}
	var searched []string
	for _, arch := range in.archs {
		repos, _, err := f.repositories(lines, arch, ring)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range repos {
			searched = append(searched, redact.URL(r.Name)+" ("+arch+")")
			for _, q := range qs {
				hits[q.text] = append(hits[q.text], newest(q, r.Entries, arch, redact.URL(r.Name))...)
			}
		}
	}
	return hits, searched, nil
}

// newest is the newest version of each package of one repository that matches q.
func newest(q query, entries []index.IndexEntry, arch, repo string) []hit {
	var out []hit
	at := map[string]int{}
	for i := range entries {
		e := &entries[i]
		if !q.matches(e) {
			continue
		}
		if j, ok := at[e.Name]; ok {
			if index.CompareVersions(e.Version, out[j].entry.Version) > 0 {
				out[j].entry = e
			}
			continue
		}
		at[e.Name] = len(out)
		out = append(out, hit{arch: arch, repo: repo, entry: e})
	}
	slices.SortFunc(out, func(a, b hit) int { return strings.Compare(a.entry.Name, b.entry.Name) })
	return out
}

// lockState is one lock's packages by architecture and name, or nil when it does not exist.
type lockState struct {
	path string
	pkgs map[string]map[string]*lockfile.Package
}

func readLocks(paths []string) ([]lockState, error) {
	var out []lockState
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			out = append(out, lockState{path: p})
			continue
		}
		if err != nil {
			return nil, err
		}
		l, err := lockfile.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, lockState{path: p, pkgs: byArch(l)})
	}
	return out, nil
}

// inLocks says what each lock has of the package: the same version, another, or nothing.
func inLocks(locked []lockState, h hit) string {
	var says []string
	for _, l := range locked {
		name := path.Base(l.path)
		p := l.pkgs[h.arch][h.entry.Name]
		switch {
		case l.pkgs == nil:
			says = append(says, name+" does not exist yet")
		case p == nil:
			says = append(says, "not in "+name)
		case p.Version == h.entry.Version:
			says = append(says, "in "+name)
		default:
			says = append(says, name+" has "+p.Version)
		}
	}
	return strings.Join(says, "; ")
}

// report prints every hit, one line each, and fails naming the queries nothing matched.
func report(w io.Writer, qs []query, hits map[string][]hit, locked []lockState, searched []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var missed []string
	header := "QUERY\tPACKAGE\tVERSION\tARCH\tREPOSITORY\tLOCK\n"
	for _, q := range qs {
		if len(hits[q.text]) == 0 {
			missed = append(missed, q.text)
			continue
		}
		text := q.text
		if q.via != "" {
			text += " (as " + q.via + ")"
		}
		fmt.Fprint(tw, header)
		header = ""
		for _, h := range hits[q.text] {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", text, h.entry.Name, h.entry.Version, h.arch, h.repo, inLocks(locked, h))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(missed) > 0 {
		return fmt.Errorf("search: no package in %s matches %s", strings.Join(searched, ", "), strings.Join(missed, ", "))
	}
	return nil
}
