package rootfs

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
)

// UserEntry is one /etc/passwd line.
type UserEntry struct {
	UserName, Password string
	UID, GID           uint32
	Info, HomeDir      string
	Shell              string
}

// GroupEntry is one /etc/group line.
type GroupEntry struct {
	GroupName, Password string
	GID                 uint32
	Members             []string
}

// ParsePasswd parses /etc/passwd as apko's pkg/passwd does: every line (blank lines and
// comments included) must have 7 colon-separated fields with numeric uid and gid.
func ParsePasswd(data []byte) ([]UserEntry, error) {
	var out []UserEntry
	err := lines(data, func(n int, line string) error {
		parts := strings.Split(strings.TrimSpace(line), ":")
		if len(parts) != 7 {
			return fmt.Errorf("line %d: %d fields, expecting 7", n, len(parts))
		}
		uid, err := strconv.Atoi(parts[2])
		if err != nil {
			return fmt.Errorf("line %d: uid %q is not a number", n, parts[2])
		}
		gid, err := strconv.Atoi(parts[3])
		if err != nil {
			return fmt.Errorf("line %d: gid %q is not a number", n, parts[3])
		}
		out = append(out, UserEntry{parts[0], parts[1], uint32(uid), uint32(gid), parts[4], parts[5], parts[6]})
		return nil
	})
	return out, err
}

// ParseGroup parses /etc/group as apko's pkg/passwd does (4 fields, numeric gid).
func ParseGroup(data []byte) ([]GroupEntry, error) {
	var out []GroupEntry
	err := lines(data, func(n int, line string) error {
		parts := strings.Split(strings.TrimSpace(line), ":")
		if len(parts) != 4 {
			return fmt.Errorf("line %d: %d fields, expecting 4", n, len(parts))
		}
		gid, err := strconv.Atoi(parts[2])
		if err != nil {
			return fmt.Errorf("line %d: gid %q is not a number", n, parts[2])
		}
		out = append(out, GroupEntry{parts[0], parts[1], uint32(gid), strings.Split(parts[3], ",")})
		return nil
	})
	return out, err
}

func lines(data []byte, each func(int, string) error) error {
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for s.Scan() {
		n++
		if err := each(n, s.Text()); err != nil {
			return err
		}
	}
	return s.Err()
}

// FormatPasswd writes entries as apko does ("name:x:uid:gid:info:home:shell\n").
func FormatPasswd(es []UserEntry) []byte {
	var b bytes.Buffer
	for _, e := range es {
		fmt.Fprintf(&b, "%s:%s:%d:%d:%s:%s:%s\n", e.UserName, e.Password, e.UID, e.GID, e.Info, e.HomeDir, e.Shell)
	}
	return append([]byte{}, b.Bytes()...) // never nil: nil Data means "content at the origin"
}

// FormatGroup writes entries as apko does ("name:x:gid:member,member\n").
func FormatGroup(es []GroupEntry) []byte {
	var b bytes.Buffer
	for _, e := range es {
		fmt.Fprintf(&b, "%s:%s:%d:%s\n", e.GroupName, e.Password, e.GID, strings.Join(e.Members, ","))
	}
	return append([]byte{}, b.Bytes()...)
}

// userEntry is apko's userToUserEntry: shell /bin/sh, home /home/<name> and gid = uid by
// default.
func userEntry(u apkoconfig.User) UserEntry {
	e := UserEntry{UserName: u.UserName, Password: "x", UID: u.UID, GID: u.UID, Info: "Account created by apko", HomeDir: u.HomeDir, Shell: u.Shell}
	if e.Shell == "" {
		e.Shell = "/bin/sh"
	}
	if e.HomeDir == "" {
		e.HomeDir = "/home/" + u.UserName
	}
	if u.GID != nil {
		e.GID = *u.GID
	}
	return e
}

// ApplyAccounts does what apko v1.2.39's mutateAccounts does: with groups configured,
// /etc/group (the packages' one, or a new empty 0644 file) gets them appended; /etc/passwd
// (likewise) always is rewritten with the configured users appended; with users configured,
// /etc/shadow (the packages' one, or a new empty 0640 file) gets a locked entry for each;
// every user's home directory that does not exist is created (0700, owned by the user;
// missing parents 0755 root), except /dev/null. It returns the image's user: run-as, a
// user name resolved to its uid.
//
// Deliberate differences, all errors where apko writes something questionable: a
// configured user or group whose name or id another entry already has (in /etc/shadow: a
// name), and a run-as name
// that is no user of /etc/passwd (apko would pass the name through to the image config).
// read returns the content of a package's file.
func (f *FS) ApplyAccounts(acc apkoconfig.Accounts, read func(*Node) ([]byte, error)) (string, error) {
	if len(acc.Groups) > 0 {
		if err := f.addGroups(acc.Groups, read); err != nil {
			return "", err
		}
	}
	users, err := f.addUsers(acc.Users, read)
	if err != nil {
		return "", err
	}
	return runAsUser(acc.RunAs, users)
}

// addGroups appends groups to /etc/group, refusing a name or gid it has.
func (f *FS) addGroups(add []apkoconfig.Group, read func(*Node) ([]byte, error)) error {
	real, n, err := f.openOrCreate("etc/group")
	if err != nil {
		return fmt.Errorf("/etc/group: %w", err)
	}
	data, err := readFile(n, real, read)
	if err != nil {
		return err
	}
	groups, err := ParseGroup(data)
	if err != nil {
		return fmt.Errorf("/%s (%s): %w", real, n.Origin.Label, err)
	}
	names, gids := map[string]string{}, map[uint32]string{}
	for _, g := range groups {
		names[g.GroupName], gids[g.GID] = g.GroupName, g.GroupName
	}
	for _, g := range add {
		if _, dup := names[g.GroupName]; dup {
			return fmt.Errorf("accounts.groups: group %s is already in /etc/group", g.GroupName)
		}
		if other, dup := gids[g.GID]; dup {
			return fmt.Errorf("accounts.groups: group %s: gid %d is already group %s's", g.GroupName, g.GID, other)
		}
		names[g.GroupName], gids[g.GID] = g.GroupName, g.GroupName
		groups = append(groups, GroupEntry{GroupName: g.GroupName, Password: "x", GID: g.GID, Members: g.Members})
	}
	n.Data, n.dirty = FormatGroup(groups), true
	return nil
}

// addUsers appends users to /etc/passwd, refusing a name or uid it has, and creates every
// user's missing home directory. It returns all of /etc/passwd's users.
func (f *FS) addUsers(add []apkoconfig.User, read func(*Node) ([]byte, error)) ([]UserEntry, error) {
	real, n, err := f.openOrCreate("etc/passwd")
	if err != nil {
		return nil, fmt.Errorf("/etc/passwd: %w", err)
	}
	data, err := readFile(n, real, read)
	if err != nil {
		return nil, err
	}
	users, err := ParsePasswd(data)
	if err != nil {
		return nil, fmt.Errorf("/%s (%s): %w", real, n.Origin.Label, err)
	}
	names, uids := map[string]bool{}, map[uint32]string{}
	for _, u := range users {
		names[u.UserName], uids[u.UID] = true, u.UserName
	}
	for _, u := range add {
		if names[u.UserName] {
			return nil, fmt.Errorf("accounts.users: user %s is already in /etc/passwd", u.UserName)
		}
		if other, dup := uids[u.UID]; dup {
			return nil, fmt.Errorf("accounts.users: user %s: uid %d is already user %s's", u.UserName, u.UID, other)
		}
		names[u.UserName], uids[u.UID] = true, u.UserName
		users = append(users, userEntry(u))
	}
	for _, u := range users {
		if u.HomeDir == "/dev/null" {
			continue
		}
		if err := f.homeDir(u); err != nil {
			return nil, fmt.Errorf("user %s: home directory %s: %w", u.UserName, u.HomeDir, err)
		}
	}
	n.Data, n.dirty = FormatPasswd(users), true
	if len(add) > 0 {
		if err := f.addShadow(add, read); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// runAsUser is the image's user for run-as: a user's name resolved to its uid, or a
// numeric uid or uid:gid as given ("" without run-as).
func runAsUser(runAs string, users []UserEntry) (string, error) {
	if runAs == "" {
		return "", nil
	}
	for _, u := range users {
		if u.UserName == runAs {
			return strconv.FormatUint(uint64(u.UID), 10), nil
		}
	}
	if numericUser(runAs) {
		return runAs, nil
	}
	return "", fmt.Errorf("accounts.run-as: %q is no user of /etc/passwd (users: %s) and not a numeric uid or uid:gid", runAs, userNames(users))
}

func userNames(us []UserEntry) string {
	var s []string
	for _, u := range us {
		s = append(s, u.UserName)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func numericUser(s string) bool {
	u, g, hasGroup := strings.Cut(s, ":")
	if _, err := strconv.ParseUint(u, 10, 32); err != nil {
		return false
	}
	if hasGroup {
		if _, err := strconv.ParseUint(g, 10, 32); err != nil {
			return false
		}
	}
	return true
}

func (f *FS) homeDir(u UserEntry) error {
	real, n, err := f.stat(u.HomeDir)
	if err == nil {
		if n.Kind != Dir {
			return fmt.Errorf("/%s exists but is a %s", real, n.Kind)
		}
		return nil // existing directories keep their metadata (/, /bin, /root ...)
	}
	if !isNotExist(err) {
		return err
	}
	parent, err := f.mkdirAll(path.Dir("/"+strings.TrimPrefix(u.HomeDir, "/")), 0o755)
	if err != nil {
		return err
	}
	home := path.Join(parent, path.Base(u.HomeDir))
	if existing := f.nodes[home]; existing != nil {
		return fmt.Errorf("/%s already exists (a %s)", home, existing.Kind)
	}
	f.nodes[home] = &Node{Kind: Dir, Mode: 0o700, UID: int(u.UID), GID: int(u.GID), Origin: Origin{Pkg: -1}, dirty: true}
	return nil
}
