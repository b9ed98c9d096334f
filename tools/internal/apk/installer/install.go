// Package installer installs APK packages as apk does, from their facts: file ownership in
// install order, the installed database and its layer, and the merge of packages' data layers.
package installer

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// Installed is one package as the installer sees it: its .PKGINFO, checksums and files.
type Installed struct {
	Info        *apkfile.PkgInfo
	ControlSHA1 []byte
	// APKSize is the size of the whole .apk (S: in the database).
	APKSize int64
	Entries []apkfile.Entry
	// Scripts maps control member script names (".post-install") to their content and mode.
	Scripts []apkfile.Script
	// Ldso is what /etc/ld.so.cache needs from the package (nil: facts older than it).
	Ldso *apkfile.Ldso
}

// DirMeta is the ownership and mode a directory ends up with.
type DirMeta struct {
	Mode     int64
	UID, GID int
}

// Result is what installing packages in order produces, beside their own layers.
type Result struct {
	// Owned lists, per package, the entries it owns after later packages replaced files.
	Owned [][]apkfile.Entry
	// Dirs holds every directory's final metadata: the first creator's, as apk keeps an
	// existing directory when a later package lists it again.
	Dirs map[string]DirMeta
	// Redeclared lists directories a later package lists with other metadata than the
	// first creator: with one layer per package the later layer would win, so the
	// database layer above them restates the first creator's.
	Redeclared []string
}

func (p *Installed) label() string { return p.Info.Name + "-" + p.Info.Version }

func replaces(p, other *Installed) bool {
	for _, r := range p.Info.Replaces {
		if apkfile.DependencyName(r) == other.Info.Name {
			return true
		}
	}
	return false
}

// Install resolves ownership in install order. A later package may overwrite a file of an
// earlier one only if it names it in `replaces` or has the same origin; the file then
// belongs to the later package alone. Anything else is a conflict, as in apk.
// baseDirs are directories that exist before any package (the image's base layout).
func Install(pkgs []*Installed, baseDirs map[string]DirMeta) (*Result, error) {
	type owner struct {
		pkg   int
		entry int
	}
	res := &Result{Owned: make([][]apkfile.Entry, len(pkgs)), Dirs: map[string]DirMeta{}}
	for d, m := range baseDirs {
		res.Dirs[d] = m
	}
	owners := map[string]owner{}
	redeclared := map[string]bool{}
	removed := make([]map[int]bool, len(pkgs))
	for i, p := range pkgs {
		removed[i] = map[int]bool{}
		for j, e := range p.Entries {
			// apk would follow an earlier package's symlink; stacked layers would not. Refuse
			// rather than build a filesystem apk would not have made.
			for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
				if prev, ok := owners[d]; ok && pkgs[prev.pkg].Entries[prev.entry].Type == "symlink" {
					return nil, fmt.Errorf("package %s: /%s goes through /%s, a symlink of package %s",
						p.label(), e.Path, d, pkgs[prev.pkg].label())
				}
			}
			if e.Type == "dir" {
				if prev, ok := owners[e.Path]; ok && pkgs[prev.pkg].Entries[prev.entry].Type != "dir" {
					return nil, fmt.Errorf("package %s: directory /%s is a %s of package %s",
						p.label(), e.Path, pkgs[prev.pkg].Entries[prev.entry].Type, pkgs[prev.pkg].label())
				}
				meta := DirMeta{Mode: e.Mode, UID: e.UID, GID: e.GID}
				if first, ok := res.Dirs[e.Path]; !ok {
					res.Dirs[e.Path] = meta
				} else if first != meta && !redeclared[e.Path] {
					redeclared[e.Path] = true
					res.Redeclared = append(res.Redeclared, e.Path)
				}
				if _, ok := owners[e.Path]; !ok {
					owners[e.Path] = owner{i, j}
				}
				continue
			}
			if _, isDir := res.Dirs[e.Path]; isDir {
				return nil, fmt.Errorf("package %s: /%s is a directory in an earlier package", p.label(), e.Path)
			}
			if prev, ok := owners[e.Path]; ok {
				q := pkgs[prev.pkg]
				if prev.pkg != i && !replaces(p, q) && (p.Info.Origin == "" || p.Info.Origin != q.Info.Origin) {
					return nil, fmt.Errorf("package %s: /%s conflicts with package %s, which installed it first (no replaces=%s)",
						p.label(), e.Path, q.label(), q.Info.Name)
				}
				removed[prev.pkg][prev.entry] = true
			}
			owners[e.Path] = owner{i, j}
		}
	}
	sort.Strings(res.Redeclared)
	for i, p := range pkgs {
		for j, e := range p.Entries {
			if !removed[i][j] {
				res.Owned[i] = append(res.Owned[i], e)
			}
		}
	}
	return res, nil
}

// InstalledDB renders usr/lib/apk/db/installed for the packages, listing each package's
// owned files (Z: checksums, a:/M: for non-default owners and modes). Fields and order
// follow apko, so databases compare equal; install_if is written as apk writes it.
func InstalledDB(pkgs []*Installed, res *Result) []byte {
	var b strings.Builder
	for i, p := range pkgs {
		in := p.Info
		line := func(k, v string) { fmt.Fprintf(&b, "%s:%s\n", k, v) }
		line("P", in.Name)
		line("V", in.Version)
		line("A", in.Arch)
		line("L", in.License)
		line("T", in.Description)
		line("o", in.Origin)
		line("m", in.Maintainer)
		line("U", in.URL)
		line("D", strings.Join(in.Depends, " "))
		line("p", strings.Join(in.Provides, " "))
		if len(in.Replaces) > 0 {
			line("r", strings.Join(in.Replaces, " "))
		}
		line("c", in.Commit)
		line("i", strings.Join(in.InstallIf, " "))
		line("t", orZero(in.BuildDate))
		line("S", fmt.Sprint(p.APKSize))
		line("I", orZero(in.Size))
		line("k", orZero(in.ProviderPriority))
		if len(p.ControlSHA1) > 0 {
			line("C", "Q1"+base64.StdEncoding.EncodeToString(p.ControlSHA1))
		}
		writeFiles(&b, res.Owned[i])
		b.WriteString("\n")
	}
	return []byte(b.String())
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// writeFiles lists entries by directory: a directory's files right after its F: line,
// before its subdirectories; entries whose parent directory the package does not list are
// left out, as apk does.
func writeFiles(b *strings.Builder, entries []apkfile.Entry) {
	dirs := map[string]bool{"": true}
	for _, e := range entries {
		if e.Type == "dir" {
			dirs[e.Path] = true
		}
	}
	var kept []apkfile.Entry
	for _, e := range entries {
		ok := true
		for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
			if !dirs[d] {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, e)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool {
		return dbPathLess(kept[i].Path, kept[i].Type == "dir", kept[j].Path, kept[j].Type == "dir")
	})
	needRoot := true
	for _, e := range kept {
		perm := e.Mode & 0o7777
		if e.Type == "dir" {
			fmt.Fprintf(b, "F:%s\n", e.Path)
			if perm != 0o755 || e.UID != 0 || e.GID != 0 {
				fmt.Fprintf(b, "M:%d:%d:%04o\n", e.UID, e.GID, perm)
			}
			needRoot = false
			continue
		}
		if needRoot {
			b.WriteString("F:\n")
			needRoot = false
		}
		fmt.Fprintf(b, "R:%s\n", path.Base(e.Path))
		if perm != 0o644 || e.UID != 0 || e.GID != 0 {
			fmt.Fprintf(b, "a:%d:%d:%04o\n", e.UID, e.GID, perm)
		}
		if e.Checksum != "" {
			fmt.Fprintf(b, "Z:%s\n", e.Checksum)
		}
	}
}

// dbPathLess orders paths component by component; within one directory, non-directories
// come before directories.
func dbPathLess(a string, aDir bool, b string, bDir bool) bool {
	if a == b {
		return false
	}
	at, bt := strings.Split(a, "/"), strings.Split(b, "/")
	n := 0
	for n < len(at)-1 && n < len(bt)-1 && at[n] == bt[n] {
		n++
	}
	aIsDir := n+1 < len(at) || aDir
	bIsDir := n+1 < len(bt) || bDir
	if aIsDir == bIsDir {
		if at[n] == bt[n] {
			return len(at) < len(bt)
		}
		return at[n] < bt[n]
	}
	return !aIsDir
}

// ScriptsTar renders usr/lib/apk/db/scripts.tar: each package's executable control
// scripts, named <name>-<version>.Q1<control sha1>.<script>, dated epoch.
func ScriptsTar(pkgs []*Installed) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range pkgs {
		for _, s := range p.Scripts {
			if s.Mode&0o555 != 0o555 {
				continue
			}
			h := &tar.Header{
				Name:     fmt.Sprintf("%s-%s.Q1%s%s", p.Info.Name, p.Info.Version, base64.StdEncoding.EncodeToString(p.ControlSHA1), s.Name),
				Mode:     s.Mode,
				Size:     int64(len(s.Content)),
				ModTime:  time.Unix(0, 0),
				Typeflag: tar.TypeReg,
				Format:   tar.FormatUSTAR,
			}
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
			tw.Write(s.Content)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Triggers renders usr/lib/apk/db/triggers.
func Triggers(pkgs []*Installed) []byte {
	var b strings.Builder
	for _, p := range pkgs {
		if len(p.Info.Triggers) > 0 {
			fmt.Fprintf(&b, "Q1%s %s\n", base64.StdEncoding.EncodeToString(p.ControlSHA1), strings.Join(p.Info.Triggers, " "))
		}
	}
	return []byte(b.String())
}
