package verbs

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

// apkoFixture extracts two packages: a base layout with /etc/passwd, /etc/group and a
// program, and a package of data files, as apk-extract does in the build.
func apkoFixture(t *testing.T) (dir string, args []string) {
	t.Helper()
	key, err := apktest.NewKey("k.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	var dbArgs []string
	for i, p := range []apktest.Package{
		{Name: "base", Version: "1-r0", Arch: "x86_64", Files: []apktest.File{
			{Path: "etc", Dir: true}, {Path: "usr", Dir: true}, {Path: "usr/bin", Dir: true},
			{Path: "etc/passwd", Content: "root:x:0:0:root:/root:/bin/sh\n"},
			{Path: "etc/group", Content: "root:x:0:\n"},
			{Path: "usr/bin/tool", Content: "#!/bin/sh\necho tool\n", Mode: 0o755},
			{Path: "root", Dir: true, Mode: 0o700},
		}},
		{Name: "data", Version: "2-r0", Arch: "x86_64", Files: []apktest.File{
			{Path: "srv", Dir: true}, {Path: "srv/data", Dir: true},
			{Path: "srv/data/big.bin", Content: strings.Repeat("0123456789", 100000)},
		}},
	} {
		b, err := apktest.Build(p, key)
		if err != nil {
			t.Fatal(err)
		}
		apkPath := filepath.Join(dir, p.Name+".apk")
		os.WriteFile(apkPath, b.APK, 0o644)
		o := func(s string) string { return filepath.Join(dir, fmt.Sprintf("%d.%s", i, s)) }
		if err := apkExtract([]string{"--name", p.Name, "--version", p.Version, "--arch", "x86_64", "--part", apkPath,
			"--control-checksum", apktest.SRI("sha1", b.ControlSHA1), "--data-checksum", apktest.SRI("sha256", b.DataSHA256),
			"--blob", o("blob"), "--metadata", o("meta"), "--facts", o("facts")}); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--facts", o("facts"), "--data", o("blob"))
		dbArgs = append(dbArgs, "--package", o("facts"))
	}
	db := filepath.Join(dir, "db.blob")
	if err := installdbVerb(append(dbArgs, "--arch", "x86_64", "--blob", db, "--metadata", filepath.Join(dir, "db.meta")), io.Discard); err != nil {
		t.Fatal(err)
	}
	return dir, append(args, "--database", db)
}

const apkoYAML = `contents:
  packages: [base, data]
archs: [amd64, arm64]
accounts:
  run-as: app
  users:
    - username: app
      uid: 1000
      gid: 1000
  groups:
    - groupname: app
      gid: 1000
      members: [app]
entrypoint:
  command: /usr/bin/tool --name "a b"
cmd: run
work-dir: /srv/data
environment:
  MODE: apko
  PATH: /usr/bin
annotations:
  org.example.from: apko
volumes: [/srv/data]
stop-signal: SIGINT
paths:
  - path: /srv/data
    type: directory
    uid: 1000
    gid: 1000
    permissions: 0o750
    recursive: true
  - path: /usr/bin/tool
    type: permissions
    permissions: 0o700
  - path: /var/lib/app
    type: directory
    uid: 1000
    gid: 1000
    permissions: 0o700
  - path: /etc/apk/world
    type: permissions
    permissions: 0o600
  - path: /dev/null
    type: permissions
    permissions: 0o666
    gid: 5
`

// readLayer lists a gzip layer's entries as "name type mode uid:gid" and their content.
func readLayer(t *testing.T, blob string) []string {
	t.Helper()
	var out []string
	for _, it := range tarItems(t, blob) {
		h := it.h
		s := fmt.Sprintf("%s %c %04o %d:%d", h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid)
		if len(it.data) > 100 {
			s += fmt.Sprintf(" (%d bytes)", len(it.data))
		} else if len(it.data) > 0 {
			s += fmt.Sprintf(" %q", it.data)
		}
		out = append(out, s)
	}
	return out
}

func TestApkoLayer(t *testing.T) {
	dir, pkgArgs := apkoFixture(t)
	cfg := filepath.Join(dir, "apko.yaml")
	os.WriteFile(cfg, []byte(apkoYAML), 0o644)
	o := func(s string) string { return filepath.Join(dir, s) }
	args := append([]string{"--config", cfg, "--arch", "x86_64", "--blob", o("acc.tgz"), "--metadata", o("acc.json"), "--user", o("user")}, pkgArgs...)
	if err := apkoLayerVerb(args); err != nil {
		t.Fatal(err)
	}
	checkApkoLayer(t, o)
	// Deterministic: the same inputs give the same bytes.
	again := append([]string{"--config", cfg, "--arch", "x86_64", "--blob", o("acc2.tgz"), "--metadata", o("acc2.json"), "--user", o("user2")}, pkgArgs...)
	if err := apkoLayerVerb(again); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(o("acc.tgz"))
	b2, _ := os.ReadFile(o("acc2.tgz"))
	if string(b1) != string(b2) {
		t.Error("two runs gave different layers")
	}
	checkApkoImageConfig(t, dir, cfg, o)
	checkApkoImageConfigCases(t, dir, o)
}

// checkApkoLayer: the layer apko-layer wrote as acc.tgz and the user it resolved.
func checkApkoLayer(t *testing.T, o func(string) string) {
	t.Helper()
	want := []string{
		"dev/null 3 0666 0:5",
		`etc/apk/world 0 0600 0:0 "base=1-r0\ndata=2-r0\n"`,
		`etc/group 0 0644 0:0 "root:x:0:\napp:x:1000:app\n"`,
		`etc/passwd 0 0644 0:0 "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:Account created by apko:/home/app:/bin/sh\n"`,
		`etc/shadow 0 0640 0:0 "app:!:::::::\n"`,
		"home/ 5 0755 0:0",
		"home/app/ 5 0700 1000:1000",
		"srv/data/ 5 0750 1000:1000",
		"srv/data/big.bin 0 0750 1000:1000 (1000000 bytes)",
		`usr/bin/tool 0 0700 0:0 "#!/bin/sh\necho tool\n"`,
		"var/lib/ 5 0700 0:0",
		"var/lib/app/ 5 0700 1000:1000",
	}
	if got := readLayer(t, o("acc.tgz")); !reflect.DeepEqual(got, want) {
		t.Errorf("layer:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if u, _ := os.ReadFile(o("user")); string(u) != "1000" {
		t.Errorf("user = %q", u)
	}
}

// checkApkoImageConfig: the image config from the same file, with attributes taking
// precedence.
func checkApkoImageConfig(t *testing.T, dir, cfg string, o func(string) string) {
	t.Helper()
	spec := o("spec.json")
	os.WriteFile(spec, []byte(`{"os":"linux","architecture":"amd64","cmd":["from-attr"],"env":{"MODE":"attr"},"annotations":{"org.example.attr":"x"}}`), 0o644)
	imgArgs, err := apkoImageArgs(dir, spec, cfg, o("user"), "x86_64", "0")
	if err != nil {
		t.Fatal(err)
	}
	imgArgs = append(imgArgs, "--layer", o("acc.json"),
		"--config", o("config.json"), "--manifest", o("manifest.json"), "--digest", o("digest"), "--descriptor", o("desc.json"))
	if err := imageVerb(imgArgs); err != nil {
		t.Fatal(err)
	}
	var ic struct {
		Config struct {
			Entrypoint, Cmd, Env []string
			User, WorkingDir     string
			StopSignal           string
			Volumes              map[string]struct{}
			Labels               map[string]string
		}
	}
	b, _ := os.ReadFile(o("config.json"))
	if err := json.Unmarshal(b, &ic); err != nil {
		t.Fatal(err)
	}
	c := ic.Config
	if strings.Join(c.Entrypoint, "|") != "/usr/bin/tool|--name|a b" || strings.Join(c.Cmd, "|") != "from-attr" ||
		strings.Join(c.Env, ",") != "MODE=attr,PATH=/usr/bin,SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" ||
		c.User != "1000" || c.WorkingDir != "/srv/data" || c.StopSignal != "SIGINT" || len(c.Volumes) != 1 ||
		c.Labels["org.example.from"] != "apko" {
		t.Errorf("config: %s", b)
	}
	var man struct{ Annotations map[string]string }
	b, _ = os.ReadFile(o("manifest.json"))
	json.Unmarshal(b, &man)
	if man.Annotations["org.example.from"] != "apko" || man.Annotations["org.example.attr"] != "x" {
		t.Errorf("manifest annotations: %v", man.Annotations)
	}
}

// checkApkoImageConfigCases: a shell fragment entrypoint; another architecture; layering
// checks.
func checkApkoImageConfigCases(t *testing.T, dir string, o func(string) string) {
	t.Helper()
	spec := o("spec.json")
	for _, tc := range []struct{ yaml, arch, budget, want string }{
		{"entrypoint:\n  shell-fragment: echo $HOME\n", "x86_64", "0", ""},
		{"archs: [arm64]\n", "x86_64", "0", "archs lists aarch64, not x86_64"},
		{"layering:\n  strategy: origin\n  budget: 4\n", "x86_64", "0", `layering is {strategy: origin, budget: 4} but the rule has apk_layering = "", apk_layer_budget = 0: set apk_layering = "origin" and apk_layer_budget = 4`},
		{"layering:\n  strategy: origin\n  budget: 4\n", "x86_64", "4", `but the rule has apk_layering = "", apk_layer_budget = 4`},
		{"layering:\n  strategy: origin\n  budget: 4\n", "x86_64", "origin:4", ""},
		{"archs: [amd64]\n", "x86_64", "origin:4", `the rule's apk_layering is "origin" but the file has no layering`},
		{"layering:\n  strategy: size\n", "x86_64", "0", `layering.strategy "size"`},
		{"accounts:\n  run-as: app\n", "x86_64", "0", "no resolved user"},
	} {
		p := o("other.yaml")
		os.WriteFile(p, []byte(tc.yaml), 0o644)
		os.WriteFile(spec, []byte(`{"os":"linux","architecture":"amd64"}`), 0o644)
		args, err := apkoImageArgs(dir, spec, p, "", tc.arch, tc.budget)
		if err == nil {
			err = imageVerb(append(args, "--layer", o("acc.json"),
				"--config", o("c2.json"), "--manifest", o("m2.json"), "--digest", o("d2"), "--descriptor", o("desc2.json")))
		}
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.yaml, err)
			}
			if strings.HasPrefix(tc.yaml, "entrypoint") {
				checkShellFragment(t, o("c2.json"))
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// checkShellFragment: a shell-fragment entrypoint runs under /bin/sh -c.
func checkShellFragment(t *testing.T, config string) {
	t.Helper()
	var c2 struct{ Config struct{ Entrypoint []string } }
	b, _ := os.ReadFile(config)
	json.Unmarshal(b, &c2)
	if strings.Join(c2.Config.Entrypoint, "|") != "/bin/sh|-c|echo $HOME" {
		t.Errorf("shell fragment entrypoint: %v", c2.Config.Entrypoint)
	}
}

func TestApkoLayerErrorsLeaveNoOutput(t *testing.T) {
	dir, pkgArgs := apkoFixture(t)
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown run-as", "accounts:\n  run-as: nobody\n", `accounts.run-as: "nobody" is no user of /etc/passwd (users: root)`},
		{"duplicate uid", "accounts:\n  users:\n    - username: a\n      uid: 7\n    - username: b\n      uid: 7\n", "user b: uid 7 is already user a's"},
		{"dotdot", "paths:\n  - path: /srv/../etc\n    type: directory\n", `paths[0] (directory /srv/../etc): path "/srv/../etc" contains '..'`},
		{"bad permissions", "paths:\n  - path: /srv\n    type: directory\n    permissions: rwx\n", "rwx"},
		{"unknown key", "paths:\n  - path: /srv\n    type: directory\n    mode: 0o755\n", "unknown key mode"},
		{"empty-file on a package file", "paths:\n  - path: /usr/bin/tool\n    type: empty-file\n", "/usr/bin/tool: is a non-empty file of package base-1-r0"},
		{"hard link over a directory", "paths:\n  - path: /srv\n    type: hardlink\n    source: /usr/bin/tool\n", "/srv: is a directory; replacing it by a hard link is not supported"},
		{"symlink escape", "paths:\n  - path: /lib/apk/../../x\n    type: directory\n", "contains '..'"},
		{"symlink leaving the root", "paths:\n  - path: /usr/bin/up\n    type: symlink\n    source: ../../../..\n    permissions: 0o755\n", `paths[0] (symlink /usr/bin/up): /usr/bin/up: symlink to "../../../.." escapes the root`},
		{"wrong arch", "archs: [aarch64]\n", "archs lists aarch64, not x86_64"},
		// A symlink without permissions: apko chmods what it resolves to, here /etc, to 0000.
		{"symlink to /etc without permissions", "paths:\n  - path: /usr/share/wharf/link\n    type: symlink\n    source: /etc\n  - path: /usr/share/wharf/link/newfile\n    type: empty-file\n",
			"paths[0] (symlink /usr/share/wharf/link): /etc: permissions is not set, so apko would change this existing directory (through /usr/share/wharf/link) from mode 0755 to 0000; set permissions (e.g. 0755 to keep it)"},
		{"symlink to /var without permissions", "paths:\n  - path: /srv/v\n    type: symlink\n    source: ../var\n", "/var: permissions is not set, so apko would change this existing directory (through /srv/v) from mode 0755 to 0000"},
		{"directory over an existing one without permissions", "paths:\n  - path: /etc\n    type: directory\n", "paths[0] (directory /etc): /etc: permissions is not set, so apko would change this existing directory from mode 0755 to 0000"},
		{"permissions without permissions", "paths:\n  - path: /usr/bin/tool\n    type: permissions\n    uid: 5\n", "/usr/bin/tool: permissions is not set, so apko would change this existing file from mode 0755 to 0000"},
		{"empty-file without permissions", "paths:\n  - path: /srv/new.conf\n    type: empty-file\n", "paths[0] (empty-file /srv/new.conf): /srv/new.conf: permissions is not set, so apko would create this file with mode 0000; set permissions (0 only if you mean it)"},
		{"new directory without permissions", "paths:\n  - path: /srv/a/b\n    type: directory\n", "/srv/a/b: permissions is not set, so apko would create this directory with mode 0000"},
		{"hardlink without permissions", "paths:\n  - path: /usr/bin/t2\n    type: hardlink\n    source: /usr/bin/tool\n", "/usr/bin/t2: permissions is not set, so apko would change this existing file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			cfg := filepath.Join(dir, "bad.yaml")
			os.WriteFile(cfg, []byte(tc.yaml), 0o644)
			args := append([]string{"--config", cfg, "--arch", "x86_64", "--blob", filepath.Join(out, "b"), "--metadata", filepath.Join(out, "m"), "--user", filepath.Join(out, "u")}, pkgArgs...)
			err := apkoLayerVerb(args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), "bad.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
			if left := entries(t, out); len(left) != 0 {
				sort.Strings(left)
				t.Errorf("left behind %v", left)
			}
		})
	}
}
