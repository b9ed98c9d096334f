// Package resolve picks the packages an apko configuration installs, for one architecture,
// from parsed APKINDEXes, as apko's solver does: world constraints first, then each world
// package's dependencies depth first, dependencies before dependents.
package resolve

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
)

// Op is a version operator.
type Op string

// The operators of apk dependencies.
const (
	Any          Op = ""
	Equal        Op = "="
	Greater      Op = ">"
	Less         Op = "<"
	GreaterEqual Op = ">="
	LessEqual    Op = "<="
	Fuzzy        Op = "~" // also written =~
	// GreaterFuzzy (>~) is >= whose equal part matches as ~ does; LessFuzzy (<~) likewise.
	GreaterFuzzy Op = ">~"
	LessFuzzy    Op = "<~"
)

// Constraint is one world entry or dependency: [!]name[@pin][op version] as apk writes it, or
// [!]name[op version][@pin] as apko does. The operator is any run of < > = ~ that apk-tools
// accepts (its bits add up: => is >=, =~ is ~).
type Constraint struct {
	Text     string // as written
	Conflict bool   // "!name": nothing providing name may be installed
	Name     string // package name or provided name (so:libc.so.6, cmd:sh, pc:zlib)
	Op       Op
	Version  string
	Pin      string // repository tag (@tag)
}

var constraintRE = regexp.MustCompile(`^([^@=><~!\s]+)(@([A-Za-z0-9_.-]+))?(([=><~]+)([^@\s]+))?(@([A-Za-z0-9_.-]+))?$`)

var releaseSuffix = regexp.MustCompile(`-r[0-9]+$`)

// ParseConstraint parses a constraint. As apko does, a shared library's version without a
// release (so:libfoo.so.1=1.2, written by melange) is read as 0.1.2 so that it orders
// below versions that are package versions.
func ParseConstraint(s string) (Constraint, error) {
	c, err := parseUncached(s)
	if err != nil {
		return c, err
	}
	if c.Op != Any && !index.ValidVersion(c.Version) {
		return c, fmt.Errorf("constraint %q: %w", s, index.CheckVersion(c.Version))
	}
	return c, nil
}

type parsed struct {
	c   Constraint
	err error
}

// parsedCache memoizes parseLoose: the same provides are parsed again and again while
// resolving against a large index. It stops growing at maxCached entries.
var (
	parsedCache sync.Map
	cached      atomic.Int64
)

const maxCached = 1 << 20

// parseLoose parses without validating the version: real indexes carry provides such as
// pc:librtmp=v2.4, which name something but satisfy no versioned constraint.
func parseLoose(s string) (Constraint, error) {
	if v, ok := parsedCache.Load(s); ok {
		p := v.(parsed)
		return p.c, p.err
	}
	c, err := parseUncached(s)
	if cached.Add(1) <= maxCached {
		parsedCache.Store(s, parsed{c, err})
	}
	return c, err
}

func parseUncached(s string) (Constraint, error) {
	c := Constraint{Text: s}
	t := s
	if strings.HasPrefix(t, "!") {
		c.Conflict, t = true, t[1:]
	}
	if strings.HasPrefix(t, "so:") {
		if name, ver, ok := strings.Cut(t, "="); ok && !releaseSuffix.MatchString(ver) {
			t = name + "=0." + ver
		}
	}
	m := constraintRE.FindStringSubmatch(t)
	if m == nil {
		return c, fmt.Errorf("constraint %q: want name[op version][@tag]", s)
	}
	if m[2] != "" && m[7] != "" {
		return c, fmt.Errorf("constraint %q: two repository tags; write name@tag[op version]", s)
	}
	c.Name, c.Version, c.Pin = m[1], m[6], m[3]+m[8]
	switch op := m[5]; op {
	case "":
	case "=~":
		c.Op = Fuzzy
	default:
		if err := index.CheckOperator(op); err != nil {
			return c, fmt.Errorf("constraint %q: %w", s, err)
		}
		c.Op = Op(op)
	}
	return c, nil
}

// VersionOK reports whether version v satisfies the constraint's operator, as
// apk_version_match decides it (an invalid v compares by its valid leading part). An
// unversioned provide (v == "") satisfies no versioned constraint.
func (c Constraint) VersionOK(v string) bool {
	if c.Op == Any {
		return true
	}
	return v != "" && index.MatchVersion(v, string(c.Op), c.Version)
}

// providedVersion is the version under which a package with this name, version and
// provides offers c.Name: its own version for its own name, else the version of the
// matching provide ("" for an unversioned provide), and ok=false when it does not offer it.
func providedVersion(name, version string, provides []string, want string) (string, bool) {
	if name == want {
		return version, true
	}
	for _, p := range provides {
		pc, err := parseLoose(p)
		if err != nil || pc.Name != want {
			continue
		}
		return pc.Version, true
	}
	return "", false
}

// Matches reports whether a package with this name, version and provides satisfies the
// constraint (ignoring Conflict). An unversioned provide satisfies only unversioned
// constraints.
func (c Constraint) Matches(name, version string, provides []string) bool {
	v, ok := providedVersion(name, version, provides, c.Name)
	return ok && c.VersionOK(v)
}
