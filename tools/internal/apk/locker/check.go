package locker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/resolve"
	"github.com/rules-wharf/rules_wharf/tools/internal/redact"
)

// StaleError says why a lock does not fit its configuration.
type StaleError struct {
	Lock, Config string
	Reasons      []string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%s is stale for %s:\n  - %s", e.Lock, e.Config, strings.Join(e.Reasons, "\n  - "))
}

// Check compares a lock with its configuration without any network or repository access:
// the configuration's checksum, keyring, repositories and architectures must be what the
// lock records, and every package constraint must hold for the locked packages of every
// architecture. It returns a *StaleError listing every difference (errors.As finds it);
// its errors show URLs' userinfo masked.
func Check(o Options) error { return redact.Error(check(o)) }

func check(o Options) error {
	in, err := load(&o)
	if err != nil {
		return err
	}
	l, err := readLock(o)
	if err != nil {
		return err
	}
	want, err := in.skeleton()
	if err != nil {
		return err
	}
	why, sameConfig := in.configDiffers(l, want)
	why = append(why, unpinned(l)...)
	why = append(why, in.unsatisfied(byArch(l), sameConfig)...)
	if len(why) > 0 {
		return &StaleError{Lock: o.LockPath, Config: o.ConfigPath, Reasons: why}
	}
	return nil
}

// readLock reads and parses the lock; a missing one is stale.
func readLock(o Options) (*lockfile.Lock, error) {
	b, err := os.ReadFile(o.LockPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &StaleError{Lock: o.LockPath, Config: o.ConfigPath, Reasons: []string{"the lock does not exist"}}
	}
	if err != nil {
		return nil, err
	}
	l, err := lockfile.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.LockPath, err)
	}
	return l, nil
}

// configDiffers lists where the lock's configuration checksum, keyring, architectures,
// URLs and repositories differ from want, the lock the configuration would start; sameConfig
// says the checksums match.
func (in *input) configDiffers(l, want *lockfile.Lock) (why []string, sameConfig bool) {
	switch {
	case l.Config == nil || l.Config.Checksum == "":
		// Locks from apko before it recorded the configuration: the checks below decide.
	case l.Config.Checksum != want.Config.Checksum:
		what := in.name
		if len(in.appended) > 0 {
			what += " or the appended packages (" + strings.Join(in.appended, ", ") + ")"
		}
		why = append(why, fmt.Sprintf("%s changed since the lock was written (lock records %s, the file is %s)", what, l.Config.Checksum, want.Config.Checksum))
	default:
		sameConfig = true
	}
	if g, w := keyURLs(l.Contents.Keyring), keyURLs(want.Contents.Keyring); !reflect.DeepEqual(g, w) {
		why = append(why, fmt.Sprintf("keyring: lock has %s, configuration has %s", list(g), list(w)))
	}
	if g, w := l.Archs(), in.archs; !reflect.DeepEqual(g, w) {
		why = append(why, fmt.Sprintf("architectures: lock has %s, configuration has %s", list(g), list(w)))
	}
	if u := credentialURL(l); u != "" {
		why = append(why, fmt.Sprintf("the lock records credentials in its URLs (%s): a lock is shared, so they belong in ~/.netrc or a Bazel credential helper; regenerating the lock drops them", u))
	}
	for _, s := range []struct {
		name      string
		got, want []lockfile.Repo
	}{{"build_repositories", l.Contents.BuildRepositories, want.Contents.BuildRepositories},
		{"runtime_repositories", l.Contents.RuntimeRepositories, want.Contents.RuntimeRepositories},
		{"repositories", l.Contents.Repositories, want.Contents.Repositories}} {
		if g, w := repoNames(s.got), repoNames(s.want); !reflect.DeepEqual(g, w) {
			why = append(why, fmt.Sprintf("%s: lock has %s, configuration has %s", s.name, list(g), list(w)))
		}
	}
	return why, sameConfig
}

// unpinned lists the locked packages without a data range and checksum.
func unpinned(l *lockfile.Lock) []string {
	var why []string
	for i := range l.Contents.Packages {
		p := &l.Contents.Packages[i]
		if p.Data.Checksum == "" || p.Data.Range == "" {
			// Every apko release and `wharf lock` pin the data member; without it the lock
			// was edited by hand or truncated, and regenerating it restores the pin.
			why = append(why, fmt.Sprintf("package %s (packages[%d]): no data range and checksum, which every lock apko or wharf writes has", p.Label(), i))
		}
	}
	return why
}

// byArch is the locked packages by architecture and name.
func byArch(l *lockfile.Lock) map[string]map[string]*lockfile.Package {
	m := map[string]map[string]*lockfile.Package{}
	for i := range l.Contents.Packages {
		p := &l.Contents.Packages[i]
		if m[p.Architecture] == nil {
			m[p.Architecture] = map[string]*lockfile.Package{}
		}
		m[p.Architecture][p.Name] = p
	}
	return m
}

// unsatisfied lists the configuration's package constraints the locked packages of an
// architecture do not meet.
func (in *input) unsatisfied(locked map[string]map[string]*lockfile.Package, sameConfig bool) []string {
	var why []string
	for _, arch := range in.archs {
		for _, w := range in.cfg.Contents.Packages {
			c, err := resolve.ParseConstraint(w)
			if err != nil {
				why = append(why, err.Error())
				continue
			}
			p := locked[arch][c.Name]
			switch {
			case c.Conflict && p != nil:
				why = append(why, fmt.Sprintf("%s: %q, but the lock has %s", arch, w, p.Label()))
			case c.Conflict:
			case p != nil && !c.VersionOK(p.Version):
				why = append(why, fmt.Sprintf("%s: the lock has %s, which does not satisfy %q", arch, p.Label(), w))
			case p == nil && !sameConfig:
				// A provided name (so:, cmd:, a virtual) is not recorded in a lock; only the
				// configuration checksum can vouch for it.
				why = append(why, fmt.Sprintf("%s: no locked package is named %q (for a provided name only a lock written from this configuration can tell)", arch, c.Name))
			}
		}
	}
	return why
}

func keyURLs(ks []lockfile.Keyring) []string {
	var out []string
	for _, k := range ks {
		u := k.URL
		if u == "" {
			u = k.Name
		}
		out = append(out, nameWithoutUserinfo(u))
	}
	return out
}

func repoNames(rs []lockfile.Repo) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Architecture+":"+nameWithoutUserinfo(lockfile.RepoBase(r)))
	}
	return out
}

// nameWithoutUserinfo is a lock's location, a URL or a name without scheme
// (`user:password@host/path`, as apko names repositories), without its credentials: they
// are reported once (credentialURL), never quoted, and do not decide what differs.
func nameWithoutUserinfo(loc string) string {
	if strings.Contains(loc, "://") {
		return withoutUserinfo(loc)
	}
	return strings.TrimPrefix(withoutUserinfo("https://"+loc), "https://")
}

func list(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return "[" + strings.Join(l, ", ") + "]"
}

// credentialURL is the lock's first URL with userinfo ("" if none), which apko writes as
// the configuration gave it.
func credentialURL(l *lockfile.Lock) string {
	c := l.Contents
	var urls []string
	for _, k := range c.Keyring {
		urls = append(urls, k.URL)
	}
	for _, r := range slices.Concat(c.BuildRepositories, c.RuntimeRepositories, c.Repositories) {
		urls = append(urls, r.URL)
	}
	for _, p := range c.Packages {
		urls = append(urls, p.URL)
	}
	for _, u := range urls {
		if isRemote(u) && hasUserinfo(u) {
			return u
		}
	}
	return ""
}
