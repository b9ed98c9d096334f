package rootfs

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
)

// ShadowEntry is one /etc/shadow line.
type ShadowEntry struct {
	UserName, Password                  string
	LastChg, Min, Max, Warn, Inact, Exp string
	Flag                                string
}

// ParseShadow parses /etc/shadow as apko v1.2.39's pkg/passwd does: every line must have 9
// colon-separated fields. Like apko, it does not keep the third (the date of the last
// password change), so a rewritten file has it empty on every line.
func ParseShadow(data []byte) ([]ShadowEntry, error) {
	var out []ShadowEntry
	err := lines(data, func(n int, line string) error {
		p := strings.Split(strings.TrimSpace(line), ":")
		if len(p) != 9 {
			return fmt.Errorf("line %d: %d fields, expecting 9", n, len(p))
		}
		out = append(out, ShadowEntry{UserName: p[0], Password: p[1], Min: p[3], Max: p[4], Warn: p[5], Inact: p[6], Exp: p[7], Flag: p[8]})
		return nil
	})
	return out, err
}

// FormatShadow writes entries as apko does ("name:pw:lastchg:min:max:warn:inact:expire:flag\n").
func FormatShadow(es []ShadowEntry) []byte {
	var b bytes.Buffer
	for _, e := range es {
		fmt.Fprintf(&b, "%s:%s:%s:%s:%s:%s:%s:%s:%s\n", e.UserName, e.Password, e.LastChg, e.Min, e.Max, e.Warn, e.Inact, e.Exp, e.Flag)
	}
	return append([]byte{}, b.Bytes()...)
}

// addShadow appends a locked entry ("!": no password login, they are service accounts) for
// each configured user to /etc/shadow, refusing a name it has.
func (f *FS) addShadow(add []apkoconfig.User, read func(*Node) ([]byte, error)) error {
	real, n, err := f.openOrCreatePerm("etc/shadow", 0o640)
	if err != nil {
		return fmt.Errorf("/etc/shadow: %w", err)
	}
	data, err := readFile(n, real, read)
	if err != nil {
		return err
	}
	entries, err := ParseShadow(data)
	if err != nil {
		return fmt.Errorf("/%s (%s): %w", real, n.Origin.Label, err)
	}
	for _, u := range add {
		for _, e := range entries {
			if e.UserName == u.UserName {
				return fmt.Errorf("accounts.users: user %s is already in /%s", u.UserName, real)
			}
		}
		entries = append(entries, ShadowEntry{UserName: u.UserName, Password: "!"})
	}
	n.Data, n.dirty = FormatShadow(entries), true
	return nil
}
