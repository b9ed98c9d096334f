package apkoconfig

import (
	"bufio"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

// readKeys reads testdata/apko_keys.txt's keys.
func readKeys(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var keys []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" && !strings.HasPrefix(l, "#") {
			keys = append(keys, l)
		}
	}
	return keys, s.Err()
}

// keyCase is how rules_wharf treats one apko key: built (Load succeeds and check sees the
// value) or refused (Load fails with exactly that message, which names the key and says
// what to do).
type keyCase struct {
	yaml    string            // apko.yaml, setting the key
	files   map[string]string // other files beside it
	check   func(*Config) bool
	refused string
}

const pkgs = "contents:\n  packages: [a]\n"

// keyCases gives every key of testdata/apko_keys.txt its case.
func keyCases(t *testing.T) map[string]keyCase {
	cert, _, err := apktest.NewCertificate("corp root")
	if err != nil {
		t.Fatal(err)
	}
	key, err := apktest.NewKey("corp.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	user := "accounts:\n  users: [{username: app, uid: 10, gid: 11, shell: /bin/false, homedir: /srv}]\n"
	group := "accounts:\n  groups: [{groupname: app, gid: 11, members: [app]}]\n"
	path := pkgs + "paths:\n  - {path: /l, type: symlink, source: /s, uid: 1, gid: 2, permissions: 0o755, recursive: true}\n"
	baseimage := unsupported("contents.baseimage", baseImageWhy).Error()
	services := unsupported("entrypoint.services", "service bundles are not implemented").Error()
	return map[string]keyCase{
		"accounts.groups[].gid":       {yaml: group, check: func(c *Config) bool { return c.Accounts.Groups[0].GID == 11 }},
		"accounts.groups[].groupname": {yaml: group, check: func(c *Config) bool { return c.Accounts.Groups[0].GroupName == "app" }},
		"accounts.groups[].members":   {yaml: group, check: func(c *Config) bool { return c.Accounts.Groups[0].Members[0] == "app" }},
		"accounts.run-as":             {yaml: "accounts:\n  run-as: '65532'\n", check: func(c *Config) bool { return c.Accounts.RunAs == "65532" }},
		"accounts.users[].gid":        {yaml: user, check: func(c *Config) bool { return *c.Accounts.Users[0].GID == 11 }},
		"accounts.users[].homedir":    {yaml: user, check: func(c *Config) bool { return c.Accounts.Users[0].HomeDir == "/srv" }},
		"accounts.users[].shell":      {yaml: user, check: func(c *Config) bool { return c.Accounts.Users[0].Shell == "/bin/false" }},
		"accounts.users[].uid":        {yaml: user, check: func(c *Config) bool { return c.Accounts.Users[0].UID == 10 }},
		"accounts.users[].username":   {yaml: user, check: func(c *Config) bool { return c.Accounts.Users[0].UserName == "app" }},
		"annotations":                 {yaml: "annotations: {k: v}\n", check: func(c *Config) bool { return c.Annotations["k"] == "v" }},
		"archs":                       {yaml: "archs: [arm64]\n", check: func(c *Config) bool { return c.Archs[0] == "aarch64" }},
		"certificates.additional[].content": {yaml: pkgs + "certificates:\n  additional:\n    - name: corp\n      content: |\n" + indent(cert),
			check: func(c *Config) bool { return string(c.Certificates.Additional[0].PEM) == string(cert) }},
		"certificates.additional[].name": {yaml: pkgs + "certificates:\n  additional:\n    - name: corp\n      content: |\n" + indent(cert),
			check: func(c *Config) bool { return c.Certificates.Additional[0].Name == "corp" }},
		"certificates.providers":      {yaml: "certificates:\n  providers: [custom-ca]\n", check: func(c *Config) bool { return c.Certificates.Providers[0] == "custom-ca" }},
		"cmd":                         {yaml: "cmd: a b\n", check: func(c *Config) bool { return c.Cmd == "a b" }},
		"contents.baseimage.apkindex": {yaml: "contents:\n  baseimage: {apkindex: base/APKINDEX}\n", refused: baseimage},
		"contents.baseimage.image":    {yaml: "contents:\n  baseimage: {image: base/layout}\n", refused: baseimage},
		"contents.build_repositories": {yaml: "contents:\n  build_repositories: [https://b/]\n", check: func(c *Config) bool { return c.Contents.BuildRepositories[0] == "https://b" }},
		"contents.keyring":            {yaml: "contents:\n  keyring: [k.pub]\n", check: func(c *Config) bool { return c.Contents.Keyring[0] == "k.pub" }},
		"contents.packages":           {yaml: pkgs, check: func(c *Config) bool { return c.Contents.Packages[0] == "a" }},
		"contents.repositories":       {yaml: "contents:\n  repositories: [https://r]\n", check: func(c *Config) bool { return c.Contents.Repositories[0] == "https://r" }},
		"contents.runtime_keyring[].content": {yaml: pkgs + "  runtime_keyring:\n    - name: corp.rsa.pub\n      content: |\n" + indent(key.PublicPEM()),
			check: func(c *Config) bool { return string(c.Contents.RuntimeKeyring[0].PEM) == string(key.PublicPEM()) }},
		"contents.runtime_keyring[].name": {yaml: pkgs + "  runtime_keyring:\n    - name: corp.rsa.pub\n      content: |\n" + indent(key.PublicPEM()),
			check: func(c *Config) bool { return c.Contents.RuntimeKeyring[0].Name == "corp.rsa.pub" }},
		"contents.runtime_repositories": {yaml: "contents:\n  runtime_repositories: [https://rt]\n", check: func(c *Config) bool { return c.Contents.RuntimeRepositories[0] == "https://rt" }},
		"entrypoint.command":            {yaml: "entrypoint: {command: /bin/a}\n", check: func(c *Config) bool { return c.Entrypoint.Command == "/bin/a" }},
		"entrypoint.services":           {yaml: "entrypoint:\n  services: {a: /bin/a}\n", refused: services},
		"entrypoint.shell-fragment":     {yaml: "entrypoint: {shell-fragment: echo a}\n", check: func(c *Config) bool { return c.Entrypoint.ShellFragment == "echo a" }},
		"entrypoint.type": {yaml: "entrypoint: {type: service-bundle}\n",
			refused: unsupported("entrypoint.type", `type "service-bundle" (service bundles) is not implemented`).Error()},
		"environment": {yaml: "environment: {A: b}\n", check: func(c *Config) bool { return c.Environment["A"] == "b" }},
		"format": {yaml: "format: erofs\n",
			refused: unsupported("format", `layer format "erofs": rules_wharf writes tar layers only; drop the key or set it to tar`).Error()},
		"include": {yaml: "include: base.yaml\n" + pkgs, files: map[string]string{"base.yaml": "contents:\n  packages: [b]\n"},
			check: func(c *Config) bool { return strings.Join(c.Contents.Packages, ",") == "b,a" }},
		"layering.budget":     {yaml: "layering: {strategy: origin, budget: 3}\n", check: func(c *Config) bool { return c.Layering.Budget == 3 }},
		"layering.strategy":   {yaml: "layering: {strategy: origin, budget: 3}\n", check: func(c *Config) bool { return c.Layering.Strategy == "origin" }},
		"paths[].gid":         {yaml: path, check: func(c *Config) bool { return *c.Paths[0].GID == 2 }},
		"paths[].path":        {yaml: path, check: func(c *Config) bool { return c.Paths[0].Path == "/l" }},
		"paths[].permissions": {yaml: path, check: func(c *Config) bool { return c.Paths[0].Permissions == 0o755 }},
		"paths[].recursive":   {yaml: path, check: func(c *Config) bool { return c.Paths[0].Recursive }},
		"paths[].source":      {yaml: path, check: func(c *Config) bool { return c.Paths[0].Source == "/s" }},
		"paths[].type":        {yaml: path, check: func(c *Config) bool { return c.Paths[0].Type == PathSymlink }},
		"paths[].uid":         {yaml: path, check: func(c *Config) bool { return *c.Paths[0].UID == 1 }},
		"stop-signal":         {yaml: "stop-signal: SIGQUIT\n", check: func(c *Config) bool { return c.StopSignal == "SIGQUIT" }},
		"vcs-url":             {yaml: "vcs-url: https://v\n", check: func(c *Config) bool { return c.VCSURL == "https://v" }},
		"volumes":             {yaml: "volumes: [/v]\n", check: func(c *Config) bool { return c.Volumes[0] == "/v" }},
		"work-dir":            {yaml: "work-dir: /w\n", check: func(c *Config) bool { return c.WorkDir == "/w" }},
	}
}

// TestEveryApkoKey: each key apko v1.2.39's configuration has (testdata/apko_keys.txt,
// checked against apko's module by TestApkoKeysListIsCurrent) is built with apko's meaning
// or refused with a message naming it and saying what to do.
func TestEveryApkoKey(t *testing.T) {
	keys, err := readKeys(filepath.Join("testdata", "apko_keys.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := keyCases(t)
	for _, k := range keys {
		tc, ok := cases[k]
		if !ok {
			t.Errorf("apko key %s has no case: implement it or refuse it, and add its case", k)
			continue
		}
		delete(cases, k)
		files := map[string]string{"apko.yaml": tc.yaml}
		maps.Copy(files, tc.files)
		c, err := Load(filepath.Join(writeFiles(t, files), "apko.yaml"))
		switch {
		case tc.refused != "" && (err == nil || !strings.HasSuffix(err.Error(), ": "+tc.refused)):
			t.Errorf("%s: err = %v, want the refusal %q", k, err, tc.refused)
		case tc.refused == "" && err != nil:
			t.Errorf("%s: %v", k, err)
		case tc.refused == "" && !tc.check(c):
			t.Errorf("%s: not in the configuration read: %+v", k, c)
		}
	}
	for k := range cases {
		t.Errorf("case for %s, which apko v1.2.39 does not have", k)
	}
}
