package resolve

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
)

// Repository is one repository's index for the architecture being resolved.
type Repository struct {
	// Name identifies the repository in messages and in the lock (its URI, without a tag).
	Name string
	// Pin is the repository's tag ("@tag URI" in the configuration): its packages are
	// only eligible for constraints naming the tag (name@tag), and their dependencies.
	Pin     string
	Entries []index.IndexEntry
}

// Package is a resolved package.
type Package struct {
	*index.IndexEntry
	Repo *Repository
}

// Label is name-version.
func (p *Package) Label() string { return p.Name + "-" + p.Version }

// Result is a resolution for one architecture.
type Result struct {
	// Packages in install order: dependencies before dependents.
	Packages []*Package
}

type cand struct {
	*Package
	index int // position over all repositories, the last tie-breaker
}

type resolver struct {
	byName  map[string][]*cand
	all     []*cand
	dq      map[*cand]string
	chosen  map[string]*cand // by package name
	origins map[string]bool
	emitted map[*cand]bool
	out     []*Package
	// conflicts are "!name" dependencies, checked against the final set.
	conflicts []conflict
}

type conflict struct {
	by *cand // nil for the world
	c  Constraint
}

// Resolve resolves world (apko's contents.packages) against the repositories, which are
// consulted in the given order (apko sorts them by URI). Within equally good candidates the
// earlier repository wins.
func Resolve(repos []*Repository, world []string) (*Result, error) {
	r, err := newResolver(repos)
	if err != nil {
		return nil, err
	}
	wanted, err := r.world(world)
	if err != nil {
		return nil, err
	}
	picked, err := r.pickWorld(wanted)
	if err != nil {
		return nil, err
	}
	// Install each world package after its dependencies, in world order.
	for _, c := range wanted {
		if err := r.visit(picked[c.Text], c.Pin, []string{`world "` + c.Text + `"`}, map[string]bool{}, true); err != nil {
			return nil, err
		}
	}
	if err := r.installIf(nil); err != nil {
		return nil, err
	}
	if err := r.checkConflicts(); err != nil {
		return nil, err
	}
	return &Result{Packages: r.out}, nil
}

// newResolver indexes the repositories' packages: every package under its own name first
// (in repository order), then as a provider.
func newResolver(repos []*Repository) (*resolver, error) {
	r := &resolver{byName: map[string][]*cand{}, dq: map[*cand]string{}, chosen: map[string]*cand{},
		origins: map[string]bool{}, emitted: map[*cand]bool{}}
	for _, repo := range repos {
		for i := range repo.Entries {
			c := &cand{Package: &Package{IndexEntry: &repo.Entries[i], Repo: repo}, index: len(r.all)}
			r.all = append(r.all, c)
			r.byName[c.Name] = append(r.byName[c.Name], c)
		}
	}
	for _, c := range r.all {
		seen := map[string]bool{c.Name: true}
		for _, p := range c.Provides {
			pc, err := parseLoose(p)
			if err != nil {
				return nil, fmt.Errorf("package %s (%s): provides: %w", c.Label(), c.Repo.Name, err)
			}
			if !seen[pc.Name] {
				seen[pc.Name] = true
				r.byName[pc.Name] = append(r.byName[pc.Name], c)
			}
		}
	}
	return r, nil
}

// world parses the world, as apko installs it: a sorted set. Conflicts ("!name") rule out
// their providers; the rest, returned, constrain what is chosen.
func (r *resolver) world(world []string) ([]Constraint, error) {
	ws := slices.Clone(world)
	sort.Strings(ws)
	ws = slices.Compact(ws)
	var wanted []Constraint
	for _, w := range ws {
		c, err := ParseConstraint(w)
		if err != nil {
			return nil, fmt.Errorf("world: %w", err)
		}
		if c.Conflict {
			r.conflicts = append(r.conflicts, conflict{c: c})
			r.excludeProviders(c, `world "`+w+`"`)
			continue
		}
		wanted = append(wanted, c)
	}
	r.constrain(wanted, "world")
	return wanted, nil
}

// pickWorld chooses the world packages, the most constrained first, each ruling out its
// conflicts; it returns them by constraint text.
func (r *resolver) pickWorld(wanted []Constraint) (map[string]*cand, error) {
	picked := map[string]*cand{}
	pending := slices.Clone(wanted)
	for len(pending) > 0 {
		best, bestN := -1, 0
		var bestCands []*cand
		for i, c := range pending {
			cands := r.candidates(c, c.Pin)
			if len(cands) == 0 {
				return nil, r.unsatisfiable(c, []string{`world "` + c.Text + `"`}, c.Pin)
			}
			if best < 0 || len(cands) < bestN {
				best, bestN, bestCands = i, len(cands), cands
			}
		}
		c := pending[best]
		pending = slices.Delete(pending, best, best+1)
		p := r.best(bestCands, c.Name, c.Pin)
		if prev, ok := r.chosen[p.Name]; ok && prev != p {
			return nil, fmt.Errorf("world %q wants %s, but %s was already chosen for the world", c.Text, p.Label(), prev.Label())
		}
		r.choose(p)
		picked[c.Text] = p
	}
	return picked, nil
}

// candidates are the packages that may satisfy c: not ruled out, eligible for the pin,
// offering c.Name at a version c accepts.
func (r *resolver) candidates(c Constraint, pin string) []*cand {
	var out []*cand
	for _, p := range r.byName[c.Name] {
		if _, ruled := r.dq[p]; ruled {
			continue
		}
		if p.Repo.Pin != "" && p.Repo.Pin != pin {
			continue
		}
		if c.Matches(p.Name, p.Version, p.Provides) {
			out = append(out, p)
		}
	}
	return out
}

// best orders candidates as apko does: the package already chosen under its name, one
// whose origin is already installed, one from the pinned repository, the higher
// provider_priority, the higher version of the wanted name, the higher package version,
// the smaller name, the earlier repository.
func (r *resolver) best(cands []*cand, name, pin string) *cand {
	return slices.MinFunc(cands, func(a, b *cand) int {
		ca, cb := r.chosen[a.Name] == a, r.chosen[b.Name] == b
		if ca != cb {
			return boolFirst(ca)
		}
		oa, ob := a.Origin != "" && r.origins[a.Origin], b.Origin != "" && r.origins[b.Origin]
		if oa != ob {
			return boolFirst(oa)
		}
		if pa, pb := a.Repo.Pin == pin, b.Repo.Pin == pin; pa != pb {
			return boolFirst(pa)
		}
		if a.ProviderPriority != b.ProviderPriority {
			return cmp.Compare(b.ProviderPriority, a.ProviderPriority)
		}
		va, _ := providedVersion(a.Name, a.Version, a.Provides, name)
		vb, _ := providedVersion(b.Name, b.Version, b.Provides, name)
		if va == "" {
			va = a.Version
		}
		if vb == "" {
			vb = b.Version
		}
		if c := index.CompareVersions(vb, va); c != 0 {
			return c
		}
		if c := index.CompareVersions(b.Version, a.Version); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.index, b.index)
	})
}

func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

// choose records p and rules out what cannot be installed beside it: other providers of a
// name p provides with a version, other packages named like a name p provides.
func (r *resolver) choose(p *cand) {
	r.chosen[p.Name] = p
	if p.Origin != "" {
		r.origins[p.Origin] = true
	}
	for _, prov := range p.Provides {
		pc, err := parseLoose(prov)
		if err != nil {
			continue
		}
		for _, q := range r.byName[pc.Name] {
			if q == p || r.dq[q] != "" {
				continue
			}
			if pc.Version != "" || q.Name == pc.Name {
				r.dq[q] = fmt.Sprintf("%s already provides %s", p.Label(), pc.Name)
			}
		}
	}
}

// constrain rules out every package offering a constrained name at a version the
// constraint does not accept (all constraints must hold at once).
func (r *resolver) constrain(cs []Constraint, by string) {
	for _, c := range cs {
		if c.Conflict || c.Op == Any {
			continue
		}
		for _, p := range r.byName[c.Name] {
			if r.dq[p] != "" || c.Matches(p.Name, p.Version, p.Provides) {
				continue
			}
			v, _ := providedVersion(p.Name, p.Version, p.Provides, c.Name)
			if v == "" {
				r.dq[p] = fmt.Sprintf("it provides %s without a version, and %s requires %q", c.Name, by, c.Text)
			} else {
				r.dq[p] = fmt.Sprintf("%s %s does not satisfy %q of %s", c.Name, v, c.Text, by)
			}
		}
	}
}

// excludeProviders rules out everything a "!name" constraint names.
func (r *resolver) excludeProviders(c Constraint, by string) {
	for _, p := range r.byName[c.Name] {
		if r.dq[p] == "" && c.Matches(p.Name, p.Version, p.Provides) {
			r.dq[p] = "excluded by !" + strings.TrimPrefix(c.Text, "!") + " of " + by
		}
	}
}

// satisfiedBy returns an already chosen package that satisfies c.
func (r *resolver) satisfiedBy(c Constraint) *cand {
	for _, p := range r.byName[c.Name] {
		if r.chosen[p.Name] == p && c.Matches(p.Name, p.Version, p.Provides) {
			return p
		}
	}
	return nil
}

// visit installs p's dependencies (depth first, the most constrained first, ties by the
// constraint's text), then p. For a world package, packages whose install_if conditions
// its installation completes go just before it, as in apko.
func (r *resolver) visit(p *cand, pin string, chain []string, ancestors map[string]bool, world bool) error {
	if r.emitted[p] || ancestors[p.Name] {
		return nil
	}
	anc := make(map[string]bool, len(ancestors)+1)
	for k := range ancestors {
		anc[k] = true
	}
	anc[p.Name] = true
	here := append(slices.Clip(chain), p.Label())

	var deps []Constraint
	for _, d := range p.Depends {
		c, err := ParseConstraint(d)
		if err != nil {
			return fmt.Errorf("%s: depends: %w", strings.Join(here, " -> "), err)
		}
		if c.Conflict {
			r.conflicts = append(r.conflicts, conflict{by: p, c: c})
			r.excludeProviders(c, p.Label())
			continue
		}
		// A package may depend on what it provides itself.
		if c.Matches(p.Name, p.Version, p.Provides) {
			continue
		}
		deps = append(deps, c)
	}
	r.constrain(deps, p.Label())

	for len(deps) > 0 {
		type option struct {
			i     int
			cands []*cand
		}
		var opt *option
		var keep []Constraint
		for _, c := range deps {
			// Already installed, or being installed further up: nothing to do.
			if q := r.satisfiedBy(c); q != nil && (r.emitted[q] || anc[q.Name]) {
				continue
			}
			cands := r.candidates(c, pin)
			if len(cands) == 0 {
				return r.unsatisfiable(c, here, pin)
			}
			keep = append(keep, c)
			i := len(keep) - 1
			if opt == nil || len(cands) < len(opt.cands) || (len(cands) == len(opt.cands) && c.Text < keep[opt.i].Text) {
				opt = &option{i, cands}
			}
		}
		if opt == nil {
			break
		}
		c := keep[opt.i]
		deps = slices.Delete(keep, opt.i, opt.i+1)
		q := r.best(opt.cands, c.Name, "")
		if prev, ok := r.chosen[q.Name]; ok && prev != q {
			return fmt.Errorf("%s requires %q, which %s does not satisfy, and %s cannot be installed beside it",
				strings.Join(here, " -> "), c.Text, prev.Label(), q.Label())
		}
		r.choose(q)
		if err := r.visit(q, pin, append(here, fmt.Sprintf("%q", c.Text)), anc, false); err != nil {
			return err
		}
	}
	if world {
		if err := r.installIf(p); err != nil {
			return err
		}
	}
	r.emitted[p] = true
	r.out = append(r.out, p.Package)
	return nil
}

// installIf installs the packages whose install_if conditions all hold for what is
// installed so far and about (next, the world package being installed), by name, until
// nothing changes. apk installs such a package once its conditions hold; apko places it
// before the world package whose dependencies completed them.
func (r *resolver) installIf(next *cand) error {
	for changed := true; changed; {
		changed = false
		var names []string
		for _, p := range r.all {
			if len(p.InstallIf) > 0 && r.chosen[p.Name] == nil {
				names = append(names, p.Name)
			}
		}
		sort.Strings(names)
		names = slices.Compact(names)
		for _, name := range names {
			if r.chosen[name] != nil {
				continue
			}
			var cands []*cand
			for _, p := range r.byName[name] {
				if p.Name == name && len(p.InstallIf) > 0 && r.dq[p] == "" && p.Repo.Pin == "" && r.triggered(p, next) {
					cands = append(cands, p)
				}
			}
			if len(cands) == 0 {
				continue
			}
			p := r.best(cands, name, "")
			r.choose(p)
			if err := r.visit(p, "", []string{"install_if " + strings.Join(p.InstallIf, " ")}, map[string]bool{}, false); err != nil {
				return err
			}
			changed = true
		}
	}
	return nil
}

// triggered reports whether every install_if condition of p is met by an installed package
// or by next.
func (r *resolver) triggered(p, next *cand) bool {
	for _, cond := range p.InstallIf {
		c, err := ParseConstraint(cond)
		if err != nil || c.Conflict {
			return false
		}
		met := false
		for _, q := range r.byName[c.Name] {
			if (r.emitted[q] || q == next) && c.Matches(q.Name, q.Version, q.Provides) {
				met = true
				break
			}
		}
		if !met {
			return false
		}
	}
	return true
}

func (r *resolver) checkConflicts() error {
	// One package per name: a package's name and its versioned provides are names only one
	// installed package may hold (unversioned provides may be shared).
	holder := map[string]*Package{}
	for _, p := range r.out {
		names := []string{p.Name}
		for _, prov := range p.Provides {
			if pc, err := parseLoose(prov); err == nil && pc.Version != "" && pc.Name != p.Name {
				names = append(names, pc.Name)
			}
		}
		for _, n := range names {
			if q, ok := holder[n]; ok && q != p {
				return fmt.Errorf("%s and %s cannot be installed together: both provide %s", q.Label(), p.Label(), n)
			}
			holder[n] = p
		}
	}
	for _, cf := range r.conflicts {
		if cf.by != nil && r.chosen[cf.by.Name] != cf.by {
			continue
		}
		for _, p := range r.out {
			if cf.by != nil && p == cf.by.Package {
				continue
			}
			if cf.c.Matches(p.Name, p.Version, p.Provides) {
				who := "the world"
				if cf.by != nil {
					who = cf.by.Label()
				}
				return fmt.Errorf("%s conflicts with %s (%s depends on %q)", who, p.Label(), who, cf.c.Text)
			}
		}
	}
	return nil
}

// unsatisfiable explains why nothing satisfies c.
func (r *resolver) unsatisfiable(c Constraint, chain []string, pin string) error {
	var why []string
	for _, p := range r.byName[c.Name] {
		v, _ := providedVersion(p.Name, p.Version, p.Provides, c.Name)
		switch {
		case r.dq[p] != "":
			why = append(why, fmt.Sprintf("%s (%s): ruled out: %s", p.Label(), p.Repo.Name, r.dq[p]))
		case p.Repo.Pin != "" && p.Repo.Pin != pin:
			why = append(why, fmt.Sprintf("%s (%s): only for @%s", p.Label(), p.Repo.Name, p.Repo.Pin))
		case v == "" && c.Op != Any:
			why = append(why, fmt.Sprintf("%s (%s): provides %s without a version", p.Label(), p.Repo.Name, c.Name))
		default:
			why = append(why, fmt.Sprintf("%s (%s): %s %s does not satisfy %q", p.Label(), p.Repo.Name, c.Name, v, c.Text))
		}
	}
	msg := fmt.Sprintf("nothing satisfies %q, required by %s", c.Text, strings.Join(chain, " -> "))
	if len(why) == 0 {
		return fmt.Errorf("%s: no package is or provides %q", msg, c.Name)
	}
	sort.Strings(why)
	return fmt.Errorf("%s:\n  %s", msg, strings.Join(why, "\n  "))
}
