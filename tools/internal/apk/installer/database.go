package installer

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// BaseDirs is the layout apko creates before installing packages; packages listing these
// directories again do not change them.
var BaseDirs = map[string]DirMeta{
	"dev": {Mode: 0o755}, "etc": {Mode: 0o755}, "etc/apk": {Mode: 0o755}, "etc/apk/keys": {Mode: 0o755},
	"lib": {Mode: 0o755}, "opt": {Mode: 0o755}, "proc": {Mode: 0o555}, "tmp": {Mode: 0o1777},
	"usr": {Mode: 0o755}, "usr/lib": {Mode: 0o755}, "usr/lib/apk": {Mode: 0o755},
	"usr/lib/apk/db": {Mode: 0o755}, "usr/lib/apk/exec": {Mode: 0o755},
	"var": {Mode: 0o755}, "var/cache": {Mode: 0o755}, "var/cache/apk": {Mode: 0o755},
	"var/cache/misc": {Mode: 0o755},
}

// devices are the character devices apko's base layout has: name, major, minor, mode.
var devices = []struct {
	name         string
	major, minor int64
	mode         int64
}{
	{"dev/console", 5, 1, 0o620}, {"dev/null", 1, 3, 0o666}, {"dev/random", 1, 8, 0o666},
	{"dev/urandom", 1, 9, 0o666}, {"dev/zero", 1, 5, 0o666},
}

// DatabaseLayer is the entries of the apk database layer of packages installed in order
// onto BaseDirs: the installed db, scripts.tar and triggers, /etc/apk (arch, world,
// repositories, keys: file name -> content), /etc/ld.so.cache when the packages ship
// /etc/ld.so.conf, the base layout's devices, and every directory with its final metadata.
func DatabaseLayer(pkgs []*Installed, arch string, repos []string, keys map[string][]byte) ([]layer.Entry, error) {
	res, err := Install(pkgs, BaseDirs)
	if err != nil {
		return nil, err
	}
	scripts, err := ScriptsTar(pkgs)
	if err != nil {
		return nil, err
	}
	var world []string
	for _, p := range pkgs {
		world = append(world, p.Info.Name+"="+p.Info.Version)
	}
	sort.Strings(world)

	files := map[string][]byte{
		"etc/apk/arch":               []byte(arch + "\n"),
		"etc/apk/world":              []byte(strings.Join(world, "\n") + "\n"),
		"etc/apk/repositories":       []byte(joinLines(repos)),
		"usr/lib/apk/db/installed":   InstalledDB(pkgs, res),
		"usr/lib/apk/db/scripts.tar": scripts,
		"usr/lib/apk/db/triggers":    Triggers(pkgs),
	}
	for name, b := range keys {
		files["etc/apk/keys/"+name] = b
	}
	entries := []layer.Entry{
		{Path: "usr/lib/apk/db/lock", Data: []byte{}, Mode: 0o600},
		{Path: "lib/apk", Linkname: "../usr/lib/apk"},
	}
	cache, err := LdsoCache(pkgs)
	if err != nil {
		return nil, err
	}
	if cache != nil {
		entries = append(entries, layer.Entry{Path: "etc/ld.so.cache", Data: cache, Mode: 0o644})
	}
	for p, b := range files {
		entries = append(entries, layer.Entry{Path: p, Data: b})
	}
	for _, d := range devices {
		entries = append(entries, layer.Entry{Path: d.name, CharDevice: &[2]int64{d.major, d.minor}, Mode: d.mode})
	}
	// Directories of this layer carry their final metadata, which in apk is the first
	// creator's; so do directories that a later package restates differently.
	dirs := map[string]bool{}
	for d := range BaseDirs {
		dirs[d] = true
	}
	for _, d := range res.Redeclared {
		dirs[d] = true
	}
	for _, e := range entries {
		for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		m, ok := res.Dirs[d]
		if !ok {
			m = DirMeta{Mode: 0o755}
		}
		mode := m.Mode
		if mode == 0 {
			mode = 0o755
		}
		entries = append(entries, layer.Entry{Path: d, Dir: true, Mode: mode, UID: m.UID, GID: m.GID})
	}

	return entries, nil
}

// UnrunScripts names each package with install scripts, and the scripts: rules_wharf runs
// nothing at build time.
func UnrunScripts(pkgs []*Installed) []string {
	var out []string
	for _, p := range pkgs {
		var names []string
		for _, s := range p.Scripts {
			names = append(names, s.Name)
		}
		if len(names) > 0 {
			out = append(out, fmt.Sprintf("%s-%s: %s", p.Info.Name, p.Info.Version, strings.Join(names, " ")))
		}
	}
	return out
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
