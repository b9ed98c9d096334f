package vuln

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
)

// Package is a locked package: its origin (the name databases file it under) when known.
type Package struct {
	Name, Version, Arch, Origin string
}

// key is the name the databases file the package under: its origin, else its own name.
func (p Package) key() string {
	if p.Origin != "" {
		return p.Origin
	}
	return p.Name
}

// Finding is a locked package below the version that fixes a vulnerability.
type Finding struct {
	Name, Version, Origin string
	Archs                 []string // the locked architectures at this version
	ID, Fixed, Database   string
	// Allow is the entry that accepts it (Allowed), or the expired one that no longer does.
	Allow *Allow
}

func (f Finding) String() string {
	origin := ""
	if f.Origin != "" && f.Origin != f.Name {
		origin = " (origin " + f.Origin + ")"
	}
	return fmt.Sprintf("%s %s [%s]%s: %s, fixed in %s (%s)", f.Name, f.Version, strings.Join(f.Archs, ", "), origin, f.ID, f.Fixed, f.Database)
}

// Report is what Check found.
type Report struct {
	Findings []Finding // not allowed: the gate fails
	Allowed  []Finding // accepted by an unexpired allow entry
	// Stale are allow entries that matched no finding (expired or not): warnings.
	Stale []string
}

// Check compares the packages with the database. today (YYYY-MM-DD) decides which allow
// entries have expired.
func Check(pkgs []Package, db *Database, allow []Allow, today string) Report {
	used := make([]bool, len(allow))
	var r Report
	for _, f := range findings(pkgs, db) {
		i := slices.IndexFunc(allow, func(a Allow) bool {
			return a.ID == f.ID && (a.Package == "" || a.Package == f.Name || a.Package == f.Origin)
		})
		if i < 0 {
			r.Findings = append(r.Findings, f)
			continue
		}
		used[i] = true
		f.Allow = &allow[i]
		if allow[i].expired(today) {
			r.Findings = append(r.Findings, f)
		} else {
			r.Allowed = append(r.Allowed, f)
		}
	}
	for i, a := range allow {
		if !used[i] {
			r.Stale = append(r.Stale, fmt.Sprintf("allow list %s matches no finding; remove it", a.name(i)))
		}
	}
	return r
}

// findings lists, per package version and vulnerability, the highest fixed version the
// locked version is below, in lock order; archs at the same version are one finding.
func findings(pkgs []Package, db *Database) []Finding {
	var out []Finding
	at := map[string]int{} // name version id → index in out
	for _, p := range pkgs {
		for id, a := range affecting(p, db.Advisories(p.key())) {
			k := p.Name + " " + p.Version + " " + id
			if i, ok := at[k]; ok {
				if !slices.Contains(out[i].Archs, p.Arch) {
					out[i].Archs = append(out[i].Archs, p.Arch)
				}
				continue
			}
			at[k] = len(out)
			out = append(out, Finding{Name: p.Name, Version: p.Version, Origin: p.Origin, Archs: []string{p.Arch}, ID: id, Fixed: a.Fixed, Database: a.Database})
		}
	}
	for i := range out {
		slices.Sort(out[i].Archs)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return strings.Compare(a.Name+" "+a.ID, b.Name+" "+b.ID) })
	return out
}

// affecting returns, per ID, the advisory with the highest fix the version is below; an ID
// the database also lists as not affected for the package is never a finding.
func affecting(p Package, advisories []Advisory) map[string]Advisory {
	out := map[string]Advisory{}
	notAffected := map[string]bool{}
	for _, a := range advisories {
		if a.Fixed == NotAffected {
			notAffected[a.ID] = true
			continue
		}
		if index.CompareVersions(p.Version, a.Fixed) >= 0 {
			continue
		}
		if a.Introduced != "" && a.Introduced != "0" && index.CompareVersions(p.Version, a.Introduced) < 0 {
			continue
		}
		if prev, ok := out[a.ID]; !ok || index.CompareVersions(prev.Fixed, a.Fixed) < 0 {
			out[a.ID] = a
		}
	}
	for id := range notAffected {
		delete(out, id)
	}
	return out
}

// Error is the gate's failure: every finding, one line each.
func (r Report) Error() error {
	if len(r.Findings) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d locked package version(s) below a fix (package version [archs]: vulnerability, fixed in version (database)):", len(r.Findings))
	for _, f := range r.Findings {
		b.WriteString("\n  " + f.String())
		if f.Allow != nil {
			fmt.Fprintf(&b, "; allow entry expired %s", f.Allow.Expires)
		}
	}
	b.WriteString("\nupdate the lock (bazel run the apk_lock target) or add the ID to the allow list with a reason")
	return fmt.Errorf("%s", b.String())
}

// FromLock lists the lock's packages; origins maps a package name to its origin (from the
// packages' .PKGINFO), since databases file subpackages (libcrypto3) under their origin
// (openssl).
func FromLock(l *lockfile.Lock, origins map[string]string) []Package {
	out := make([]Package, 0, len(l.Contents.Packages))
	for _, p := range l.Contents.Packages {
		out = append(out, Package{Name: p.Name, Version: p.Version, Arch: p.Architecture, Origin: origins[p.Name]})
	}
	return out
}
