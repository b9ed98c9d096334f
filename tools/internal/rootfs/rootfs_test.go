package rootfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
)

// pkgFiles is the content of package files by path, as the test's "data layers".
type testFS struct {
	*FS
	content map[string][]byte
}

func newTestFS() *testFS {
	t := &testFS{FS: New(), content: map[string][]byte{}}
	for _, d := range []string{"etc", "home", "usr", "usr/bin", "var", "run", "tmp", "srv"} {
		t.Add(d, &Node{Kind: Dir, Mode: 0o755, Origin: Origin{Pkg: -1, Label: "base"}})
	}
	t.Node("tmp").Mode = 0o1777
	return t
}

func (t *testFS) Node(p string) *Node { return t.nodes[p] }

func (t *testFS) file(p, content string, mode int64) {
	t.Add(p, &Node{Kind: File, Mode: mode, Size: int64(len(content)), Origin: Origin{Pkg: 0, Member: p, Label: "package base-1"}})
	t.content[p] = []byte(content)
}

func (t *testFS) symlink(p, target string) {
	t.Add(p, &Node{Kind: Symlink, Mode: 0o777, Link: target, Origin: Origin{Pkg: -1, Label: "package base-1"}})
}

func (t *testFS) read(n *Node) ([]byte, error) {
	b, ok := t.content[n.Origin.Member]
	if !ok {
		return nil, fmt.Errorf("no content for %s", n.Origin.Member)
	}
	return b, nil
}

// layer writes the changed entries and returns "path type mode uid:gid [link] [content]" lines.
func (t *testFS) layer(tb testing.TB) []string {
	tb.Helper()
	var buf bytes.Buffer
	err := WriteTar(&buf, t.Changed(), time.Unix(0, 0), func(e Entry) (io.ReadCloser, int64, error) {
		if err := e.Check(); err != nil {
			return nil, 0, err
		}
		b, ok := t.content[e.Node.Origin.Member]
		if !ok {
			return nil, 0, fmt.Errorf("/%s: content asked for, but there is none at %+v", e.Path, e.Node.Origin)
		}
		return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		s := fmt.Sprintf("%s %c %04o %d:%d", h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid)
		if h.Linkname != "" {
			s += " -> " + h.Linkname
		}
		if len(data) > 0 {
			s += " " + fmt.Sprintf("%q", data)
		}
		out = append(out, s)
	}
}

func u32(v uint32) *uint32 { return &v }

func TestAccountsOnPackagePasswd(t *testing.T) {
	fs := newTestFS()
	fs.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n", 0o644)
	fs.file("etc/group", "root:x:0:\nnobody:x:65534:\n", 0o644)
	user, err := fs.ApplyAccounts(apkoconfig.Accounts{
		RunAs: "app",
		Users: []apkoconfig.User{
			{UserName: "app", UID: 1000, GID: u32(1001)},
			{UserName: "svc", UID: 1002, Shell: "/bin/false", HomeDir: "/srv/svc"},
			{UserName: "ghost", UID: 1003, HomeDir: "/dev/null"},
		},
		Groups: []apkoconfig.Group{{GroupName: "app", GID: 1001, Members: []string{"app", "svc"}}},
	}, fs.read)
	if err != nil {
		t.Fatal(err)
	}
	if user != "1000" {
		t.Errorf("run-as resolved to %q, want 1000", user)
	}
	got := strings.Join(fs.layer(t), "\n")
	want := strings.Join([]string{
		`etc/group 0 0644 0:0 "root:x:0:\nnobody:x:65534:\napp:x:1001:app,svc\n"`,
		`etc/passwd 0 0644 0:0 "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n` +
			`app:x:1000:1001:Account created by apko:/home/app:/bin/sh\nsvc:x:1002:1002:Account created by apko:/srv/svc:/bin/false\n` +
			`ghost:x:1003:1003:Account created by apko:/dev/null:/bin/sh\n"`,
		// apko v1.2.39: a locked entry for each configured user, in a new 0640 file.
		`etc/shadow 0 0640 0:0 "app:!:::::::\nsvc:!:::::::\nghost:!:::::::\n"`,
		// /root does not exist either: apko creates every missing home, package users' too.
		"home/app/ 5 0700 1000:1001",
		"root/ 5 0700 0:0",
		"srv/svc/ 5 0700 1002:1002",
	}, "\n")
	if got != want {
		t.Errorf("layer:\n%s\nwant:\n%s", got, want)
	}
}

func TestShadowOnPackageShadow(t *testing.T) {
	fs := newTestFS()
	fs.file("etc/shadow", "root:*:19000:0:99999:7:::\n  daemon:!::0:::::  \n", 0o600)
	if _, err := fs.ApplyAccounts(apkoconfig.Accounts{Users: []apkoconfig.User{{UserName: "app", UID: 1000, HomeDir: "/dev/null"}}}, fs.read); err != nil {
		t.Fatal(err)
	}
	// As apko v1.2.39's pkg/passwd: the package's mode kept, every line re-written without
	// its third field, the configured user appended locked.
	want := `etc/shadow 0 0600 0:0 "root:*::0:99999:7:::\ndaemon:!::0:::::\napp:!:::::::\n"`
	if got := fs.layer(t); !slices.Contains(got, want) {
		t.Errorf("layer:\n%s\nwant a line:\n%s", strings.Join(got, "\n"), want)
	}
}

func TestAccountsWithoutPackagePasswd(t *testing.T) {
	// No accounts at all: apko still writes an empty /etc/passwd (0644), and no /etc/group.
	fs := newTestFS()
	user, err := fs.ApplyAccounts(apkoconfig.Accounts{}, fs.read)
	if err != nil || user != "" {
		t.Fatalf("ApplyAccounts = %q, %v", user, err)
	}
	if got := strings.Join(fs.layer(t), "\n"); got != "etc/passwd 0 0644 0:0" {
		t.Errorf("layer: %s", got)
	}
	// Numeric run-as needs no entry.
	fs = newTestFS()
	if user, err := fs.ApplyAccounts(apkoconfig.Accounts{RunAs: "65532:65532"}, fs.read); err != nil || user != "65532:65532" {
		t.Errorf("numeric run-as = %q, %v", user, err)
	}
}

func TestHomeUnderSymlink(t *testing.T) {
	fs := newTestFS()
	fs.symlink("var/home", "/home")
	if _, err := fs.ApplyAccounts(apkoconfig.Accounts{Users: []apkoconfig.User{{UserName: "a", UID: 10, HomeDir: "/var/home/a"}}}, fs.read); err != nil {
		t.Fatal(err)
	}
	if n := fs.Node("home/a"); n == nil || n.Kind != Dir || n.Mode != 0o700 || n.UID != 10 {
		t.Errorf("home through symlink: %+v", n)
	}
}

func TestAccountErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		passwd string
		acc    apkoconfig.Accounts
		want   string
	}{
		{"unknown run-as", "", apkoconfig.Accounts{RunAs: "nobody", Users: []apkoconfig.User{{UserName: "app", UID: 5}}}, `run-as: "nobody" is no user of /etc/passwd (users: app)`},
		{"duplicate uid", "", apkoconfig.Accounts{Users: []apkoconfig.User{{UserName: "a", UID: 5}, {UserName: "b", UID: 5}}}, "user b: uid 5 is already user a's"},
		{"uid of a package user", "daemon:x:2:2::/:/bin/sh\n", apkoconfig.Accounts{Users: []apkoconfig.User{{UserName: "b", UID: 2}}}, "uid 2 is already user daemon's"},
		{"duplicate name", "app:x:9:9::/:/bin/sh\n", apkoconfig.Accounts{Users: []apkoconfig.User{{UserName: "app", UID: 5}}}, "user app is already in /etc/passwd"},
		{"duplicate gid", "", apkoconfig.Accounts{Groups: []apkoconfig.Group{{GroupName: "a", GID: 5}, {GroupName: "b", GID: 5}}}, "group b: gid 5 is already group a's"},
		{"malformed passwd", "root:x:0:0:root:/root\n", apkoconfig.Accounts{}, "/etc/passwd (package base-1): line 1: 6 fields, expecting 7"},
		{"bad uid in passwd", "\nroot:x:zero:0:root:/root:/bin/sh\n", apkoconfig.Accounts{}, "line 1: 1 fields"},
		{"home is a file", "", apkoconfig.Accounts{Users: []apkoconfig.User{{UserName: "a", UID: 5, HomeDir: "/etc/passwd"}}}, "user a: home directory /etc/passwd: /etc/passwd exists but is a file"},
		{"malformed shadow", "shadow:root:*::0:::::\n\n", apkoconfig.Accounts{Users: []apkoconfig.User{{UserName: "a", UID: 5}}}, "/etc/shadow (package base-1): line 2: 1 fields, expecting 9"},
		{"name in shadow", "shadow:a:!::0:::::\n", apkoconfig.Accounts{Users: []apkoconfig.User{{UserName: "a", UID: 5}}}, "accounts.users: user a is already in /etc/shadow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newTestFS()
			if shadow, ok := strings.CutPrefix(tc.passwd, "shadow:"); ok {
				fs.file("etc/shadow", shadow, 0o640)
			} else if tc.passwd != "" {
				fs.file("etc/passwd", tc.passwd, 0o644)
			}
			_, err := fs.ApplyAccounts(tc.acc, fs.read)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// No /etc at all: as apko, the parent must exist.
	fs := &testFS{FS: New()}
	if _, err := fs.ApplyAccounts(apkoconfig.Accounts{}, fs.read); err == nil || !strings.Contains(err.Error(), "/etc: no such file or directory") {
		t.Errorf("without /etc: %v", err)
	}
	// Package content that cannot be read.
	fs = newTestFS()
	fs.Add("etc/passwd", &Node{Kind: File, Mode: 0o644, Origin: Origin{Pkg: -1, Label: "the apk database layer"}})
	if _, err := fs.ApplyAccounts(apkoconfig.Accounts{}, fs.read); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Errorf("unreadable passwd: %v", err)
	}
	fs = newTestFS()
	fs.file("etc/passwd", "x", 0o644)
	boom := errors.New("boom")
	if _, err := fs.ApplyAccounts(apkoconfig.Accounts{}, func(*Node) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("read error not passed on: %v", err)
	}
}

func TestPaths(t *testing.T) {
	fs := newTestFS()
	fs.file("usr/bin/tool", "#!/bin/sh\n", 0o755)
	fs.file("srv/data/a.txt", "a", 0o644)
	fs.symlink("srv/data/link", "a.txt")
	fs.symlink("var/run", "../run")
	err := fs.ApplyPaths([]apkoconfig.PathMutation{
		{Type: "directory", Path: "/srv/data", Permissions: 0o750, UID: id(1000), GID: id(1000), Recursive: true},
		{Type: "directory", Path: "/var/run/app/sock", Permissions: 0o700, UID: id(7), GID: id(8)},
		{Type: "empty-file", Path: "/var/log/app.log", Permissions: 0o640, UID: id(7), GID: id(8)},
		{Type: "hardlink", Path: "/usr/bin/tool2", Source: "/usr/bin/tool", Permissions: 0o700},
		{Type: "symlink", Path: "/etc/tool.conf", Source: "/srv/data/a.txt", Permissions: 0o600, UID: id(1000)},
		{Type: "permissions", Path: "/tmp", Permissions: 0o1777, UID: id(0), GID: id(0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(fs.layer(t), "\n")
	want := strings.Join([]string{
		`etc/tool.conf 2 0777 0:0 -> /srv/data/a.txt`,
		`run/app/ 5 0700 0:0`, // created by MkdirAll with the mutation's permissions, root-owned
		`run/app/sock/ 5 0700 7:8`,
		`srv/data/ 5 0750 1000:1000`,
		// recursive, then the symlink mutation: the link's target gets 0600 and uid 1000, gid 0.
		`srv/data/a.txt 0 0600 1000:0 "a"`,
		`tmp/ 5 1777 0:0`,
		`usr/bin/tool 0 0700 0:0 "#!/bin/sh\n"`,
		`usr/bin/tool2 1 0700 0:0 -> usr/bin/tool`,
		`var/log/ 5 0755 0:0`,
		`var/log/app.log 0 0640 7:8`,
	}, "\n")
	if got != want {
		t.Errorf("layer:\n%s\nwant:\n%s", got, want)
	}
}

func TestHardlinkReplacesSymlinkToDirectory(t *testing.T) {
	fs := newTestFS()
	fs.file("usr/bin/tool", "x", 0o755)
	fs.symlink("srv/dirlink", "/etc")
	if err := fs.ApplyPaths([]apkoconfig.PathMutation{{Type: "hardlink", Path: "/srv/dirlink", Source: "/usr/bin/tool", Permissions: 0o755}}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(fs.layer(t), "\n")
	want := "srv/dirlink 0 0755 0:0 \"x\"\nusr/bin/tool 1 0755 0:0 -> srv/dirlink"
	if got != want {
		t.Errorf("layer:\n%s\nwant:\n%s", got, want)
	}
	// A dangling symlink stays, and the link fails, as in apko.
	fs = newTestFS()
	fs.file("usr/bin/tool", "x", 0o755)
	fs.symlink("srv/dangling", "/nowhere")
	if err := fs.ApplyPaths([]apkoconfig.PathMutation{{Type: "hardlink", Path: "/srv/dangling", Source: "/usr/bin/tool"}}); err == nil || !strings.Contains(err.Error(), "/srv/dangling: already exists") {
		t.Errorf("over a dangling symlink: %v", err)
	}
}

func TestEmptyFile(t *testing.T) {
	// An empty package file, and one this configuration wrote, may be "emptied".
	fs := newTestFS()
	fs.file("etc/app.conf", "", 0o600)
	if err := fs.ApplyPaths([]apkoconfig.PathMutation{
		{Type: "empty-file", Path: "/etc/app.conf", Permissions: 0o644},
		{Type: "empty-file", Path: "/etc/new.conf", Permissions: 0o600},
		{Type: "empty-file", Path: "/etc/new.conf", Permissions: 0o640},
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fs.layer(t), "\n"); got != "etc/app.conf 0 0644 0:0\netc/new.conf 0 0640 0:0" {
		t.Errorf("layer: %s", got)
	}
	// A package file with content: apko keeps the content, so this is an error.
	fs = newTestFS()
	fs.file("etc/app.conf", "old", 0o600)
	err := fs.ApplyPaths([]apkoconfig.PathMutation{{Type: "empty-file", Path: "/etc/app.conf", Permissions: 0o644}})
	if err == nil || !strings.Contains(err.Error(), "/etc/app.conf: is a non-empty file of package base-1") {
		t.Errorf("non-empty package file: %v", err)
	}
}

func TestPackageHardlinksChangeTogether(t *testing.T) {
	fs := newTestFS()
	fs.file("usr/bin/a", "bin", 0o755)
	fs.Link("usr/bin/b", "usr/bin/a")
	if err := fs.ApplyPaths([]apkoconfig.PathMutation{{Type: "permissions", Path: "/usr/bin/b", Permissions: 0o700}}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(fs.layer(t), "\n")
	want := "usr/bin/a 0 0700 0:0 \"bin\"\nusr/bin/b 1 0700 0:0 -> usr/bin/a"
	if got != want {
		t.Errorf("layer:\n%s\nwant:\n%s", got, want)
	}
}

func TestPathErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  apkoconfig.PathMutation
		want string
	}{
		{"dotdot", apkoconfig.PathMutation{Type: "directory", Path: "/srv/../etc/x"}, `contains '..'`},
		{"hardlink source dotdot", apkoconfig.PathMutation{Type: "hardlink", Path: "/srv/x", Source: "/srv/../etc/passwd"}, `source: path "/srv/../etc/passwd" contains '..'`},
		{"escape through symlink", apkoconfig.PathMutation{Type: "directory", Path: "/srv/out/x"}, `/srv/out: symlink to "../../../outside" escapes the root`},
		{"escape through absolute symlink", apkoconfig.PathMutation{Type: "empty-file", Path: "/srv/abs/x"}, `/srv/abs: symlink to "/../x" escapes the root`},
		{"loop", apkoconfig.PathMutation{Type: "permissions", Path: "/srv/loop"}, "too many levels of symbolic links"},
		{"missing", apkoconfig.PathMutation{Type: "permissions", Path: "/srv/none"}, "/srv/none: no such file or directory"},
		{"dir over file", apkoconfig.PathMutation{Type: "directory", Path: "/srv/f/sub"}, "/srv/f: is a file, not a directory"},
		{"empty-file over dir", apkoconfig.PathMutation{Type: "empty-file", Path: "/srv"}, "/srv: is a directory, not a file"},
		{"symlink over file", apkoconfig.PathMutation{Type: "symlink", Path: "/srv/f", Source: "x"}, "/srv/f: already exists (a file)"},
		{"dangling symlink", apkoconfig.PathMutation{Type: "symlink", Path: "/srv/new", Source: "nowhere"}, "symlink's target, and it does not exist"},
		{"hardlink to dir", apkoconfig.PathMutation{Type: "hardlink", Path: "/srv/h", Source: "/etc"}, "source /etc is a directory"},
		{"hardlink over dir", apkoconfig.PathMutation{Type: "hardlink", Path: "/etc", Source: "/srv/f"}, "/etc: is a directory; replacing it by a hard link is not supported"},
		{"hardlink missing source", apkoconfig.PathMutation{Type: "hardlink", Path: "/srv/h", Source: "/nope"}, "source: /nope: no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newTestFS()
			fs.file("srv/f", "f", 0o644)
			fs.symlink("srv/out", "../../../outside")
			fs.symlink("srv/abs", "/../x")
			fs.symlink("srv/loop", "loop")
			err := fs.ApplyPaths([]apkoconfig.PathMutation{tc.mut})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "paths[0] ("+tc.mut.Type+" "+tc.mut.Path+"): ") {
				t.Errorf("error does not name the mutation: %v", err)
			}
		})
	}
}

func TestChangedDatabaseFileIsAnError(t *testing.T) {
	fs := newTestFS()
	fs.Add("etc/apk/world", &Node{Kind: File, Mode: 0o644, Origin: Origin{Pkg: -1, Label: "the apk database layer"}})
	if err := fs.ApplyPaths([]apkoconfig.PathMutation{{Type: "permissions", Path: "/etc/apk/world", Permissions: 0o600}}); err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, e := range fs.Changed() {
		if err := e.Check(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) != 1 || errs[0] != "/etc/apk/world: changing a file from the apk database layer is not supported" {
		t.Errorf("Check: %q", errs)
	}
}

func TestParseFormatRoundTrip(t *testing.T) {
	in := "root:x:0:0:root:/root:/bin/ash\nbin:x:1:1:bin:/bin:/sbin/nologin\n"
	us, err := ParsePasswd([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if out := string(FormatPasswd(us)); out != in {
		t.Errorf("passwd round trip: %q", out)
	}
	gin := "root:x:0:root\nwheel:x:10:root,adm\nempty:x:11:\n"
	gs, err := ParseGroup([]byte(gin))
	if err != nil {
		t.Fatal(err)
	}
	if out := string(FormatGroup(gs)); out != gin {
		t.Errorf("group round trip: %q", out)
	}
	if _, err := ParseGroup([]byte("g:x:notanumber:\n")); err == nil || !strings.Contains(err.Error(), `gid "notanumber"`) {
		t.Errorf("bad gid: %v", err)
	}
}

// id is a uid or gid given in a path mutation.
func id(n uint32) *uint32 { return &n }

// owned puts an empty package file or directory owned by uid:gid at p.
func (t *testFS) owned(p string, kind Kind, mode int64, uid, gid int) {
	t.Add(p, &Node{Kind: kind, Mode: mode, UID: uid, GID: gid, Origin: Origin{Pkg: 0, Member: p, Label: "package base-1"}})
	t.content[p] = nil
}

// apko v1.2.39 chowns only when uid or gid is given (the other then defaults to 0): without
// them every type of mutation leaves the owner as it was, so /home/app stays the user's.
func TestPathsWithoutOwnerKeepTheOwner(t *testing.T) {
	fs := newTestFS()
	fs.owned("home/app", Dir, 0o700, 1000, 1000)
	fs.owned("home/app/data", File, 0o600, 1000, 1000)
	fs.owned("home/app/.profile", File, 0o600, 1000, 1000)
	fs.owned("home/app/hl", File, 0o600, 1000, 1000)
	fs.owned("home/app/sl", File, 0o600, 1000, 1000)
	err := fs.ApplyPaths([]apkoconfig.PathMutation{
		{Type: "directory", Path: "/home/app", Permissions: 0o750},
		{Type: "empty-file", Path: "/home/app/.profile", Permissions: 0o640},
		{Type: "hardlink", Path: "/home/app/link", Source: "/home/app/hl", Permissions: 0o640},
		{Type: "symlink", Path: "/home/app/cur", Source: "sl", Permissions: 0o640},
		{Type: "permissions", Path: "/home/app/data", Permissions: 0o400},
		{Type: "permissions", Path: "/etc", Permissions: 0o755, GID: id(7)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(fs.layer(t), "\n")
	want := strings.Join([]string{
		`etc/ 5 0755 0:7`, // one of the two given: the other is 0
		`home/app/ 5 0750 1000:1000`,
		`home/app/.profile 0 0640 1000:1000`,
		`home/app/cur 2 0777 0:0 -> sl`,
		`home/app/data 0 0400 1000:1000`,
		`home/app/hl 0 0640 1000:1000`,
		`home/app/link 1 0640 1000:1000 -> home/app/hl`,
		`home/app/sl 0 0640 1000:1000`,
	}, "\n")
	if got != want {
		t.Errorf("layer:\n%s\nwant:\n%s", got, want)
	}
}

// `recursive` is apko v1.2.39's fs.WalkDir from what path resolves to, for every type:
// each entry below gets the mode (and the owner when uid or gid is given); symlinks below
// are not descended into, but their targets change.
func TestPathsRecursive(t *testing.T) {
	tree := func() *testFS {
		fs := newTestFS()
		fs.owned("srv/data", Dir, 0o700, 5, 5)
		fs.owned("srv/data/sub", Dir, 0o700, 5, 5)
		fs.owned("srv/data/sub/f", File, 0o600, 5, 5)
		fs.owned("srv/other", File, 0o600, 5, 5)
		fs.symlink("srv/data/ln", "../other")
		fs.symlink("srv/data/dirln", "/usr")
		return fs
	}
	treeAfter := func(mode, owner string, more ...string) string {
		lines := append([]string{
			"srv/data/ 5 " + mode + " " + owner,
			"srv/data/sub/ 5 " + mode + " " + owner,
			"srv/data/sub/f 0 " + mode + " " + owner,
			"srv/other 0 " + mode + " " + owner,                              // srv/data/ln's target
			"usr/ 5 " + mode + " " + strings.Replace(owner, "5:5", "0:0", 1), // srv/data/dirln's
		}, more...)
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	for _, tc := range []struct {
		name string
		mut  apkoconfig.PathMutation
		want string
	}{
		{"permissions", apkoconfig.PathMutation{Type: "permissions", Path: "/srv/data", Permissions: 0o750, Recursive: true}, treeAfter("0750", "5:5")},
		{"permissions with owner", apkoconfig.PathMutation{Type: "permissions", Path: "/srv/data", Permissions: 0o750, UID: id(9), GID: id(9), Recursive: true}, treeAfter("0750", "9:9")},
		{"directory", apkoconfig.PathMutation{Type: "directory", Path: "/srv/data", Permissions: 0o750, Recursive: true}, treeAfter("0750", "5:5")},
		{"symlink to a directory", apkoconfig.PathMutation{Type: "symlink", Path: "/srv/top", Source: "data", Permissions: 0o750, Recursive: true},
			treeAfter("0750", "5:5", "srv/top 2 0777 0:0 -> data")},
		{"empty-file", apkoconfig.PathMutation{Type: "empty-file", Path: "/srv/data/sub/new", Permissions: 0o640, UID: id(3), Recursive: true},
			"srv/data/sub/new 0 0640 3:0"},
		{"hardlink", apkoconfig.PathMutation{Type: "hardlink", Path: "/srv/hl", Source: "/srv/other", Permissions: 0o640, Recursive: true},
			"srv/hl 0 0640 5:5\nsrv/other 1 0640 5:5 -> srv/hl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := tree()
			if err := fs.ApplyPaths([]apkoconfig.PathMutation{tc.mut}); err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(fs.layer(t), "\n"); g != tc.want {
				t.Errorf("layer:\n%s\nwant:\n%s", g, tc.want)
			}
		})
	}
}
