package apkoconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const full = `
contents:
  repositories:
    - https://example.com/repo/
  build_repositories: [./local]
  runtime_repositories: [https://example.com/runtime]
  keyring: [./key.rsa.pub]
  packages: [busybox, hello=1.0-r0]
archs: [amd64, x86_64, arm64, armv7]
accounts:
  run-as: app
  users:
    - username: app
      uid: 1000
      gid: 1001
      shell: /bin/false
      homedir: /srv/app
    - username: other
      uid: 1002
  groups:
    - groupname: app
      gid: 1001
      members: [app, other]
environment:
  GREETING: hello
entrypoint:
  command: /usr/bin/hello --flag "a b"
cmd: -v
work-dir: /srv/app
paths:
  - path: /srv/data
    type: directory
    uid: 1000
    gid: 1001
    permissions: 0o750
    recursive: true
  - path: /srv/data/empty
    type: empty-file
    permissions: 0640
  - path: /srv/link
    type: symlink
    source: data
annotations:
  org.example: x
volumes: [/srv/data]
stop-signal: SIGTERM
layering:
  strategy: origin
  budget: 5
vcs-url: https://example.com/src@abc
`

func TestParseFull(t *testing.T) {
	c, err := Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	gid := uint32(1001)
	uid, pgid := uint32(1000), uint32(1001)
	want := &Config{
		Contents: Contents{
			Repositories:        []string{"https://example.com/repo"},
			BuildRepositories:   []string{"./local"},
			RuntimeRepositories: []string{"https://example.com/runtime"},
			Keyring:             []string{"./key.rsa.pub"},
			Packages:            []string{"busybox", "hello=1.0-r0"},
		},
		Entrypoint: Entrypoint{Command: `/usr/bin/hello --flag "a b"`},
		Cmd:        "-v",
		StopSignal: "SIGTERM",
		WorkDir:    "/srv/app",
		Accounts: Accounts{
			RunAs: "app",
			Users: []User{
				{UserName: "app", UID: 1000, GID: &gid, Shell: "/bin/false", HomeDir: "/srv/app"},
				{UserName: "other", UID: 1002},
			},
			Groups: []Group{{GroupName: "app", GID: 1001, Members: []string{"app", "other"}}},
		},
		Archs:       []Arch{"x86_64", "aarch64", "armv7"},
		Environment: map[string]string{"GREETING": "hello"},
		Paths: []PathMutation{
			{Path: "/srv/data", Type: "directory", UID: &uid, GID: &pgid, Permissions: 0o750, PermissionsSet: true, Recursive: true},
			{Path: "/srv/data/empty", Type: "empty-file", Permissions: 0o640, PermissionsSet: true},
			{Path: "/srv/link", Type: "symlink", Source: "data"},
		},
		VCSURL:      "https://example.com/src@abc",
		Annotations: map[string]string{"org.example": "x"},
		Volumes:     []string{"/srv/data"},
		Layering:    &Layering{Strategy: "origin", Budget: 5},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "apko.yaml")
	if err := os.WriteFile(p, []byte("contents:\n  packages: [a]\narchs: [aarch64]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Contents.Packages) != 1 || c.Archs[0].APK() != "aarch64" {
		t.Errorf("got %+v", c)
	}
	if a, v := c.Archs[0].OCI(); a != "arm64" || v != "" {
		t.Errorf("OCI() = %s %s", a, v)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestArchs(t *testing.T) {
	for in, want := range map[string]string{"386": "x86", "amd64": "x86_64", "arm/v6": "armhf", "arm/v7": "armv7", "loong64": "loongarch64", "riscv64": "riscv64"} {
		a, err := ParseArch(in)
		if err != nil || a.APK() != want {
			t.Errorf("ParseArch(%q) = %q, %v; want %q", in, a, err, want)
		}
	}
	if a, v := Arch("armv7").OCI(); a != "arm" || v != "v7" {
		t.Errorf("armv7 OCI = %s/%s", a, v)
	}
	// "arm" alone names no one variant; every apk spelling round-trips through its OCI one.
	if _, err := ParseArch("arm"); err == nil || !strings.Contains(err.Error(), "known: x86/386, x86_64/amd64, aarch64/arm64, armhf/arm/v6, armv7/arm/v7, loongarch64/loong64, ppc64le, riscv64, s390x") {
		t.Errorf("ParseArch(arm): %v", err)
	}
	for _, apk := range AllArchs() {
		arch, variant := Arch(apk).OCI()
		oci := arch
		if variant != "" {
			oci += "/" + variant
		}
		if a, err := ParseArch(oci); err != nil || a.APK() != apk {
			t.Errorf("%s: OCI %s parses as %q, %v", apk, oci, a, err)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"contents:\n  packges: [a]\n", "unknown key packges (in contents)"},
		{"bogus: 1\n", "unknown key bogus"},
		{"accounts:\n  users:\n    - username: a\n      uid: 1\n      home: /x\n", "unknown key home (in user)"},
		{"include: other.yaml\n", "key include is not supported"},
		{"contents:\n  baseimage:\n    image: x\n", "key contents.baseimage is not supported"},
		{"entrypoint:\n  services:\n    a: /bin/a\n", "key entrypoint.services is not supported"},
		{"entrypoint:\n  type: service-bundle\n", "key entrypoint.type is not supported"},
		{"archs: [sparc]\n", `unsupported architecture "sparc"`},
		{"accounts:\n  users:\n    - username: a\n", "uid 0"},
		{"accounts:\n  users:\n    - uid: 5\n", "no username"},
		{"accounts:\n  groups:\n    - gid: 5\n", "no groupname"},
		{"paths:\n  - path: /a\n    type: fifo\n", `unsupported type "fifo"`},
		{"paths:\n  - path: /a\n    type: directory\n    permissions: rwxr-xr-x\n", "rwxr-xr-x"},
		{"paths:\n  - path: /a\n    type: directory\n    permissions: 0o17777\n", "beyond 07777"},
		{"paths:\n  - path: /a\n    type: symlink\n", "needs a source"},
		{"paths:\n  - type: directory\n", "no path"},
		{"", "empty configuration"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v; want error containing %q", tc.yaml, err, tc.want)
		}
	}
}

// A path's uid and gid are optional, as in apko v1.2.39: absent or null is "leave the
// owner", which differs from an explicit 0.
func TestPathOwnerIsOptional(t *testing.T) {
	c, err := Parse([]byte("contents:\n  packages: [a]\npaths:\n" +
		"  - {path: /a, type: permissions, permissions: 0o755}\n" +
		"  - {path: /b, type: permissions, permissions: 0o755, uid: null, gid: null}\n" +
		"  - {path: /c, type: permissions, permissions: 0o755, uid: 0, gid: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	show := func(p *uint32) string {
		if p == nil {
			return "unset"
		}
		return fmt.Sprint(*p)
	}
	var got []string
	for _, m := range c.Paths {
		got = append(got, m.Path+" "+show(m.UID)+":"+show(m.GID))
	}
	if g, want := strings.Join(got, ", "), "/a unset:unset, /b unset:unset, /c 0:5"; g != want {
		t.Errorf("owners %s, want %s", g, want)
	}
}

// Keys apko v1.2.39 reads and rules_wharf does not implement are refused by name, with
// what to do instead, not as unknown keys; `format: tar` is what rules_wharf writes.
func TestApkoKeysNotSupported(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"contents:\n  packages: [a]\nformat: erofs\n",
			`key format is not supported by rules_wharf: layer format "erofs": rules_wharf writes tar layers only; drop the key or set it to tar`},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %v\nwant %s", tc.yaml, err, tc.want)
		}
	}
	if _, err := Parse([]byte("contents:\n  packages: [a]\nformat: tar\n")); err != nil {
		t.Errorf("format: tar: %v", err)
	}
}
