package verbs

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// baseDirs is the layout apko creates before installing packages; packages listing these
// directories again do not change them.
var baseDirs = map[string]apk.DirMeta{
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

func installdbVerb(args []string, log io.Writer) error {
	var factsFiles, keys, repos cli.Strings
	var arch, blobOut, metaOut string
	fs := newFlags("apk-installdb")
	fs.Var(&factsFiles, "package", "package facts JSON from apk-extract, in install order (repeatable)")
	fs.Var(&keys, "key", "keyring file to install under /etc/apk/keys (repeatable)")
	fs.Var(&repos, "repository", "line of /etc/apk/repositories (repeatable)")
	fs.StringVar(&arch, "arch", "", "APK architecture (/etc/apk/arch)")
	fs.StringVar(&blobOut, "blob", "", "output: the layer blob")
	fs.StringVar(&metaOut, "metadata", "", "output: layer metadata JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("arch", arch, "blob", blobOut, "metadata", metaOut); err != nil {
		return err
	}
	pkgs, err := readInstalled(factsFiles, arch)
	if err != nil {
		return err
	}
	res, err := apk.Install(pkgs, baseDirs)
	if err != nil {
		return err
	}
	scripts, err := apk.ScriptsTar(pkgs)
	if err != nil {
		return err
	}
	var world []string
	var withScripts []string
	for _, p := range pkgs {
		world = append(world, p.Info.Name+"="+p.Info.Version)
		var names []string
		for _, s := range p.Scripts {
			names = append(names, s.Name)
		}
		if len(names) > 0 {
			withScripts = append(withScripts, fmt.Sprintf("%s-%s: %s", p.Info.Name, p.Info.Version, strings.Join(names, " ")))
		}
	}
	sort.Strings(world)

	files := map[string][]byte{
		"etc/apk/arch":               []byte(arch + "\n"),
		"etc/apk/world":              []byte(strings.Join(world, "\n") + "\n"),
		"etc/apk/repositories":       []byte(joinLines(repos)),
		"usr/lib/apk/db/installed":   apk.InstalledDB(pkgs, res),
		"usr/lib/apk/db/scripts.tar": scripts,
		"usr/lib/apk/db/triggers":    apk.Triggers(pkgs),
	}
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			return err
		}
		files["etc/apk/keys/"+filepath.Base(k)] = b
	}
	entries := []layer.Entry{
		{Path: "usr/lib/apk/db/lock", Data: []byte{}, Mode: 0o600},
		{Path: "lib/apk", Linkname: "../usr/lib/apk"},
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
	for d := range baseDirs {
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
			m = apk.DirMeta{Mode: 0o755}
		}
		mode := m.Mode
		if mode == 0 {
			mode = 0o755
		}
		entries = append(entries, layer.Entry{Path: d, Dir: true, Mode: mode, UID: m.UID, GID: m.GID})
	}

	createdBy := fmt.Sprintf("apk database (%d packages)", len(pkgs))
	if err := writeLayer(blobOut, metaOut, layer.Gzip, -1, createdBy, func(w io.Writer) error {
		return layer.WriteTar(w, entries, layer.Epoch)
	}); err != nil {
		return err
	}
	// Bazel shows a successful action's output as a build message.
	for _, s := range withScripts {
		fmt.Fprintf(log, "install scripts not run (rules_wharf runs nothing at build time): %s\n", s)
	}
	return nil
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
