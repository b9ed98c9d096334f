// Package apkoconfig reads apko's image configuration file (apko.yaml).
//
// The accepted keys and their YAML spelling are those of apko v1.2.39
// (chainguard.dev/apko/pkg/build/types.ImageConfiguration). Keys apko does not
// know are errors, as in apko; keys apko knows but rules_wharf does not
// implement (include, contents.baseimage, entrypoint type and services, a format other
// than tar) are errors naming the key, saying what to do instead, rather than being
// ignored.
package apkoconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is an apko image configuration.
type Config struct {
	Contents   Contents
	Entrypoint Entrypoint
	Cmd        string
	StopSignal string
	WorkDir    string
	Accounts   Accounts
	// Archs in apk spelling (x86_64, aarch64, ...), in file order, without duplicates.
	Archs       []Arch
	Environment map[string]string
	Paths       []PathMutation
	VCSURL      string
	Annotations map[string]string
	Volumes     []string
	Layering    *Layering
	// Certificates is nil when the configuration has none.
	Certificates *Certificates
}

// Contents lists the repositories, keys and package constraints.
type Contents struct {
	// Repositories used at build time and written to /etc/apk/repositories.
	Repositories []string
	// BuildRepositories are used at build time only.
	BuildRepositories []string
	// RuntimeRepositories are written to /etc/apk/repositories only.
	RuntimeRepositories []string
	Keyring             []string
	// RuntimeKeyring are the keys written to /etc/apk/keys, in file order.
	RuntimeKeyring []RuntimeKey
	Packages       []string
}

// Entrypoint is apko's entrypoint: a command line (split like a shell) or a
// shell fragment run with /bin/sh -c.
type Entrypoint struct {
	Command       string
	ShellFragment string
}

// Accounts are the users and groups added to /etc/passwd and /etc/group.
type Accounts struct {
	// RunAs is the user the image runs as: a user name or a numeric uid.
	RunAs  string
	Users  []User
	Groups []Group
}

// User is one /etc/passwd entry to add.
type User struct {
	UserName string
	UID      uint32
	// GID is nil when the configuration has none (apko then uses the UID).
	GID     *uint32
	Shell   string // "" means apko's default /bin/sh
	HomeDir string // "" means apko's default /home/<username>
}

// Group is one /etc/group entry to add.
type Group struct {
	GroupName string
	GID       uint32
	Members   []string
}

// Path mutation types.
const (
	PathDirectory   = "directory"
	PathEmptyFile   = "empty-file"
	PathHardlink    = "hardlink"
	PathSymlink     = "symlink"
	PathPermissions = "permissions"
)

// PathMutation is one entry of `paths`.
type PathMutation struct {
	Path string
	Type string
	// UID and GID are nil when not given (or null): apko v1.2.39 then leaves the owner;
	// with one of them given, the other is 0.
	UID, GID    *uint32
	Permissions uint32
	// PermissionsSet tells an explicit `permissions: 0` from none given (apko applies 0).
	PermissionsSet bool
	Source         string
	Recursive      bool
}

// Layering is apko's layering configuration.
type Layering struct {
	Strategy string
	Budget   int
}

// Arch is an architecture in apk spelling.
type Arch string

// platforms is the one table of the architectures apko knows, in the order apko locks
// them when a configuration names none: apk spelling, OCI architecture and variant, and
// the other spellings apko accepts (types.ParseArchitecture, Architecture.ToAPK). The
// Starlark side's table is //platforms:platforms.bzl.
var platforms = []struct {
	apk, ociArch, variant string
	aliases               []string
}{
	{"x86", "386", "", nil},
	{"x86_64", "amd64", "", nil},
	{"aarch64", "arm64", "", nil},
	{"armhf", "arm", "v6", []string{"arm/v6"}},
	{"armv7", "arm", "v7", []string{"arm/v7"}},
	{"loongarch64", "loong64", "", nil},
	{"ppc64le", "ppc64le", "", nil},
	{"riscv64", "riscv64", "", nil},
	{"s390x", "s390x", "", nil},
}

// AllArchs returns every architecture apko knows, in apk spelling and apko's order.
func AllArchs() []string {
	var out []string
	for _, p := range platforms {
		out = append(out, p.apk)
	}
	return out
}

// ParseArch returns the apk spelling of an architecture given in apk or OCI
// spelling, or an error for one apko does not support.
func ParseArch(s string) (Arch, error) {
	var known []string
	for _, p := range platforms {
		if s == p.apk || (s == p.ociArch && p.variant == "") || slices.Contains(p.aliases, s) {
			return Arch(p.apk), nil
		}
		spellings := p.apk
		for _, o := range append([]string{p.ociArch}, p.aliases...) {
			if o != p.apk && !(o == p.ociArch && p.variant != "") {
				spellings += "/" + o
			}
		}
		known = append(known, spellings)
	}
	return "", fmt.Errorf("unsupported architecture %q (known: %s)", s, strings.Join(known, ", "))
}

// APK returns the apk spelling (x86_64).
func (a Arch) APK() string { return string(a) }

// OCI returns the OCI platform architecture and variant (amd64, "").
func (a Arch) OCI() (arch, variant string) {
	for _, p := range platforms {
		if p.apk == string(a) {
			return p.ociArch, p.variant
		}
	}
	return string(a), ""
}

// The raw types mirror apko's YAML field names exactly (yaml.v3 lower-cases
// field names without a yaml tag, which is how apko's User, Group,
// PathMutation and ImageEntrypoint are spelled).
type rawConfig struct {
	Contents     rawContents       `yaml:"contents"`
	Entrypoint   rawEntrypoint     `yaml:"entrypoint"`
	Cmd          string            `yaml:"cmd"`
	StopSignal   string            `yaml:"stop-signal"`
	WorkDir      string            `yaml:"work-dir"`
	Accounts     rawAccounts       `yaml:"accounts"`
	Archs        []string          `yaml:"archs"`
	Environment  map[string]string `yaml:"environment"`
	Paths        []rawPath         `yaml:"paths"`
	VCSURL       string            `yaml:"vcs-url"`
	Annotations  map[string]string `yaml:"annotations"`
	Include      string            `yaml:"include"`
	Volumes      []string          `yaml:"volumes"`
	Layering     *rawLayering      `yaml:"layering"`
	Certificates *rawCertificates  `yaml:"certificates"`
	Format       string            `yaml:"format"`
}

type rawContents struct {
	BuildRepositories   []string        `yaml:"build_repositories"`
	RuntimeRepositories []string        `yaml:"runtime_repositories"`
	Repositories        []string        `yaml:"repositories"`
	Keyring             []string        `yaml:"keyring"`
	Packages            []string        `yaml:"packages"`
	BaseImage           yaml.Node       `yaml:"baseimage"`
	RuntimeKeyring      []rawRuntimeKey `yaml:"runtime_keyring"`
}

type rawEntrypoint struct {
	Type          string            `yaml:"type"`
	Command       string            `yaml:"command"`
	ShellFragment string            `yaml:"shell-fragment"`
	Services      map[string]string `yaml:"services"`
}

type rawAccounts struct {
	RunAs  string     `yaml:"run-as"`
	Users  []rawUser  `yaml:"users"`
	Groups []rawGroup `yaml:"groups"`
}

type rawUser struct {
	UserName string  `yaml:"username"`
	UID      uint32  `yaml:"uid"`
	GID      *uint32 `yaml:"gid"`
	Shell    string  `yaml:"shell"`
	HomeDir  string  `yaml:"homedir"`
}

type rawGroup struct {
	GroupName string   `yaml:"groupname"`
	GID       uint32   `yaml:"gid"`
	Members   []string `yaml:"members"`
}

type rawPath struct {
	Path        string  `yaml:"path"`
	Type        string  `yaml:"type"`
	UID         *uint32 `yaml:"uid"`
	GID         *uint32 `yaml:"gid"`
	Permissions *uint32 `yaml:"permissions"`
	Source      string  `yaml:"source"`
	Recursive   bool    `yaml:"recursive"`
}

type rawLayering struct {
	Strategy string `yaml:"strategy"`
	Budget   int    `yaml:"budget"`
}

// Load reads and checks the apko configuration at path, merged with the files it includes
// (include.go). Errors name the file and the offending key.
func Load(path string) (*Config, error) {
	c, _, err := LoadFiles(path)
	return c, err
}

var typeSuffix = regexp.MustCompile(` in type apkoconfig\.raw([A-Za-z]+)`)

// Parse reads and checks an apko configuration that includes no other file.
func Parse(data []byte) (*Config, error) {
	raw, err := decode(data)
	if err != nil {
		return nil, err
	}
	return convert(raw)
}

// decode reads one YAML document of apko's keys, as apko reads them (unknown keys are errors).
func decode(data []byte) (*rawConfig, error) {
	var raw rawConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty configuration")
		}
		// "field foo not found in type apkoconfig.rawUser" -> "unknown key foo (in users)".
		msg := typeSuffix.ReplaceAllStringFunc(err.Error(), func(m string) string {
			return " (in " + strings.ToLower(typeSuffix.FindStringSubmatch(m)[1]) + ")"
		})
		msg = strings.ReplaceAll(msg, "field ", "unknown key ")
		msg = strings.ReplaceAll(msg, " not found", "")
		return nil, errors.New(msg)
	}
	var extra rawConfig
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("more than one YAML document")
	}
	return &raw, nil
}

// baseImageWhy says what to do instead of contents.baseimage, apko's experimental base.
const baseImageWhy = "its packages go on top of an image given as an OCI layout and that image's APKINDEX; " +
	"with rules_wharf, give the image as oci_image's base (oci.pull or an image target) and drop contents.baseimage " +
	"(the base's own apk database is then not merged with this image's)"

func unsupported(key, why string) error {
	return fmt.Errorf("key %s is not supported by rules_wharf: %s", key, why)
}

func convert(raw *rawConfig) (*Config, error) {
	if err := refuseUnsupported(raw); err != nil {
		return nil, err
	}
	c := &Config{
		Contents: Contents{
			Repositories:        trimRepos(raw.Contents.Repositories),
			BuildRepositories:   trimRepos(raw.Contents.BuildRepositories),
			RuntimeRepositories: trimRepos(raw.Contents.RuntimeRepositories),
			Keyring:             raw.Contents.Keyring,
			Packages:            raw.Contents.Packages,
		},
		Entrypoint:  Entrypoint{Command: raw.Entrypoint.Command, ShellFragment: raw.Entrypoint.ShellFragment},
		Cmd:         raw.Cmd,
		StopSignal:  raw.StopSignal,
		WorkDir:     raw.WorkDir,
		Environment: raw.Environment,
		VCSURL:      raw.VCSURL,
		Annotations: raw.Annotations,
		Volumes:     raw.Volumes,
	}
	var err error
	if c.Archs, err = convertArchs(raw.Archs); err != nil {
		return nil, err
	}
	if raw.Layering != nil {
		c.Layering = &Layering{Strategy: raw.Layering.Strategy, Budget: raw.Layering.Budget}
	}
	if c.Certificates, err = convertCertificates(raw.Certificates); err != nil {
		return nil, err
	}
	if c.Contents.RuntimeKeyring, err = convertRuntimeKeyring(raw.Contents.RuntimeKeyring); err != nil {
		return nil, err
	}
	if c.Accounts, err = convertAccounts(raw.Accounts); err != nil {
		return nil, err
	}
	for i, p := range raw.Paths {
		m, err := convertPath(i, p)
		if err != nil {
			return nil, err
		}
		c.Paths = append(c.Paths, m)
	}
	return c, nil
}

// refuseUnsupported fails on the keys apko reads that rules_wharf does not implement,
// saying what to do instead.
func refuseUnsupported(raw *rawConfig) error {
	switch {
	case raw.Include != "":
		// Load reads includes; Parse has no file to find one relative to.
		return unsupported("include", "the included file is found relative to the configuration's file, and this configuration was given without one (apkoconfig.Load reads it)")
	case !raw.Contents.BaseImage.IsZero():
		return unsupported("contents.baseimage", baseImageWhy)
	case raw.Format != "" && raw.Format != "tar":
		return unsupported("format", fmt.Sprintf("layer format %q: rules_wharf writes tar layers only; drop the key or set it to tar", raw.Format))
	case raw.Entrypoint.Type != "":
		return unsupported("entrypoint.type", fmt.Sprintf("type %q (service bundles) is not implemented", raw.Entrypoint.Type))
	case len(raw.Entrypoint.Services) != 0:
		return unsupported("entrypoint.services", "service bundles are not implemented")
	}
	return nil
}

// convertArchs parses the architectures, each once, in order.
func convertArchs(archs []string) ([]Arch, error) {
	var out []Arch
	seen := map[Arch]bool{}
	for _, s := range archs {
		a, err := ParseArch(s)
		if err != nil {
			return nil, fmt.Errorf("archs: %w", err)
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// convertAccounts checks users and groups as apko's ImageConfiguration.Validate does.
func convertAccounts(raw rawAccounts) (Accounts, error) {
	a := Accounts{RunAs: raw.RunAs}
	for i, u := range raw.Users {
		if u.UserName == "" {
			return a, fmt.Errorf("accounts.users[%d]: no username", i)
		}
		if u.UID == 0 {
			return a, fmt.Errorf("accounts.users[%d] (%s): uid 0 (to run as root, use `run-as: 0`)", i, u.UserName)
		}
		a.Users = append(a.Users, User(u))
	}
	for i, g := range raw.Groups {
		if g.GroupName == "" {
			return a, fmt.Errorf("accounts.groups[%d]: no groupname", i)
		}
		a.Groups = append(a.Groups, Group(g))
	}
	return a, nil
}

// convertPath checks paths[i]: a known type, a path, permissions within 07777 and a
// source for links.
func convertPath(i int, p rawPath) (PathMutation, error) {
	m := PathMutation{Path: p.Path, Type: p.Type, UID: p.UID, GID: p.GID, Source: p.Source, Recursive: p.Recursive}
	switch p.Type {
	case PathDirectory, PathEmptyFile, PathHardlink, PathSymlink, PathPermissions:
	default:
		return m, fmt.Errorf("paths[%d] (%s): unsupported type %q (directory, empty-file, hardlink, symlink, permissions)", i, p.Path, p.Type)
	}
	if p.Path == "" {
		return m, fmt.Errorf("paths[%d]: no path", i)
	}
	if p.Permissions != nil {
		m.Permissions, m.PermissionsSet = *p.Permissions, true
	}
	if m.Permissions > 0o7777 {
		return m, fmt.Errorf("paths[%d] (%s): permissions %#o has bits beyond 07777", i, p.Path, m.Permissions)
	}
	if (p.Type == PathHardlink || p.Type == PathSymlink) && p.Source == "" {
		return m, fmt.Errorf("paths[%d] (%s): type %s needs a source", i, p.Path, p.Type)
	}
	return m, nil
}

// trimRepos drops trailing slashes as apko does.
func trimRepos(repos []string) []string {
	if repos == nil {
		return nil
	}
	out := make([]string, 0, len(repos))
	for _, r := range repos {
		out = append(out, strings.TrimRight(r, "/"))
	}
	return out
}
