// Package mapcheck compares docs/design.md's "Map of the code" with the folders of the
// checkout, so that the Map cannot go stale: every folder under Roots must be named by it,
// and every folder it names must exist.
//
// A Map row is `| folders | owns |`. The first column names folders from the repository
// root in backticks; a bare name after one with a slash is its sibling (`tools/internal/oci`,
// `sbom` names tools/internal/sbom). In the second column `name` or `a/name` names the folder
// below the row's folder whose path ends with it (`lockfile` in the tools/internal/apk row
// names tools/internal/apk/lockfile); a backticked path with a slash there must exist, as a
// file or a folder, below the row's folder or the repository root.
package mapcheck

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Roots are the folders whose every subfolder the Map names.
var Roots = []string{"apk", "oci", "toolchain", "tools/internal", "tools/dev"}

// Heading starts the Map's section in docs/design.md.
const Heading = "## Map of the code"

// Row is one line of the Map's table.
type Row struct {
	Folders []string // from the first column, slash-separated from the repository root
	Names   []string // backticked words of the second column
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	pathLike   = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$`)
)

// ParseMap returns the rows of the table under Heading in the markdown text md.
func ParseMap(md string) ([]Row, error) {
	_, section, ok := strings.Cut(md, "\n"+Heading+"\n")
	if !ok {
		return nil, fmt.Errorf("no %q section", Heading)
	}
	var rows []Row
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "## ") {
			break
		}
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "|") || len(cells) < 4 || strings.Contains(cells[1], "---") {
			continue
		}
		row := Row{Folders: firstColumn(cells[1])}
		if len(row.Folders) == 0 {
			continue // the header row
		}
		for _, m := range backticked.FindAllStringSubmatch(strings.Join(cells[2:], "|"), -1) {
			row.Names = append(row.Names, m[1])
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("the %q section has no table rows", Heading)
	}
	return rows, nil
}

// firstColumn resolves a first cell's backticked folders: `a/b` from the root, a bare
// name as the sibling of the folder before it.
func firstColumn(cell string) []string {
	var folders []string
	for _, m := range backticked.FindAllStringSubmatch(cell, -1) {
		tok := m[1]
		if !strings.Contains(tok, "/") && len(folders) > 0 {
			tok = path.Join(path.Dir(folders[len(folders)-1]), tok)
		}
		folders = append(folders, path.Clean(strings.TrimSuffix(tok, "/")))
	}
	return folders
}

// Folders lists the folders below roots (slash-separated, the roots left out) in the
// checkout at dir that hold a file somewhere below them, leaving out testdata and hidden
// folders.
func Folders(dir string, roots []string) ([]string, error) {
	var out []string
	for _, root := range roots {
		top := filepath.Join(dir, filepath.FromSlash(root))
		if _, err := os.Stat(top); errors.Is(err, fs.ErrNotExist) {
			continue // a root that is gone has no folders to name
		}
		err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			if p != top && holdsAFile(p) {
				rel, _ := filepath.Rel(dir, p)
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing the folders under %s: %w", root, err)
		}
	}
	return out, nil
}

// holdsAFile reports whether a file exists below p: a folder left empty by a move is no
// folder of the tree (git keeps none).
func holdsAFile(p string) bool {
	found := false
	_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// Check returns what is wrong with the Map in md for the checkout at dir: folders under
// Roots it does not name, folders it names that do not exist, and paths in its second
// column that do not exist. None means the Map matches the tree.
func Check(dir, md string) ([]string, error) {
	rows, err := ParseMap(md)
	if err != nil {
		return nil, err
	}
	folders, err := Folders(dir, Roots)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, row := range rows {
		problems = append(problems, missing(dir, row)...)
	}
	for _, f := range folders {
		if !named(rows, f) {
			problems = append(problems, fmt.Sprintf("%s is not named: add it to the row of the folder that holds it", f))
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// missing returns the row's folders and slashed paths that are not in the checkout.
func missing(dir string, row Row) []string {
	var out []string
	for _, f := range row.Folders {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil || !st.IsDir() {
			out = append(out, fmt.Sprintf("%s is named in the first column but is not a folder", f))
		}
	}
	for _, name := range row.Names {
		if !strings.Contains(name, "/") || !pathLike.MatchString(name) {
			continue
		}
		if !existsBelow(dir, append([]string{"."}, row.Folders...), name) {
			out = append(out, fmt.Sprintf("%s, named in the row of %s, is neither below it nor below the repository root",
				name, strings.Join(row.Folders, ", ")))
		}
	}
	return out
}

func existsBelow(dir string, bases []string, name string) bool {
	for _, base := range bases {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(base), filepath.FromSlash(name))); err == nil {
			return true
		}
	}
	return false
}

// named reports whether a row names folder f: as one of its folders, or with a second
// column word that f's path below one of its folders ends with, or that starts with that
// path (`private/rules` names private too).
func named(rows []Row, f string) bool {
	for _, row := range rows {
		for _, folder := range row.Folders {
			if f == folder {
				return true
			}
			below, ok := strings.CutPrefix(f, folder+"/")
			if !ok {
				continue
			}
			for _, name := range row.Names {
				name = strings.TrimSuffix(name, "/")
				if below == name || strings.HasSuffix(below, "/"+name) || strings.HasPrefix(name, below+"/") {
					return true
				}
			}
		}
	}
	return false
}
