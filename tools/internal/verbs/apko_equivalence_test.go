//go:build e2e

package verbs

// Equivalence with apko: the rootfs that our per-package layers, the database layer and the
// apko.yaml layer (accounts, paths) produce, and the image config from the apko.yaml, must
// equal apko v1.2.39's:
//   - TestApkoEquivalence: apko's golden image of its own offline test lock (both from its
//     module, read through the Go module cache);
//   - TestApkoEquivalenceExample: what the apko v1.2.39 binary builds, offline, from
//     examples/hello_image/apko.yaml and its lock (a user, a group, run-as, every kind of
//     path mutation the example uses, entrypoint, cmd, environment, work-dir, annotations).
//
//	go test -tags e2e -run Apko ./tools/internal/verbs/

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
)

// Deliberate differences, each with its reason (docs/apk-install.md).
var notCompared = map[string]string{
	"etc/apko.json": "apko's record of its own config; rules_wharf has no apko config to record",
}

type node struct {
	typ      byte
	mode     int64
	uid, gid int
	link     string
	data     string
	dev      [2]int64
}

func (n node) String() string {
	return fmt.Sprintf("type=%c mode=%o owner=%d:%d link=%q dev=%v size=%d", n.typ, n.mode, n.uid, n.gid, n.link, n.dev, len(n.data))
}

// apply unpacks a (gzip) layer onto fs with overlay semantics: later entries win.
func apply(t *testing.T, fs map[string]node, blob []byte) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if p == "." {
			continue
		}
		data, _ := io.ReadAll(tr)
		typ := h.Typeflag
		n := node{typ: typ, mode: h.Mode & 0o7777, uid: h.Uid, gid: h.Gid, link: h.Linkname, data: string(data), dev: [2]int64{h.Devmajor, h.Devminor}}
		if typ == tar.TypeLink {
			n = fs[path.Clean(h.Linkname)]
		}
		fs[p] = n
	}
}

// imageConfig is what the comparisons look at in an image config.
type imageConfig struct {
	Entrypoint, Cmd, Env []string
	User, WorkingDir     string
	StopSignal           string
	Volumes              map[string]struct{}
	Labels               map[string]string
}

type lockFile struct {
	Contents struct {
		Keyring  []struct{ URL string }
		Packages []lockedPackage
	}
}

// lockedPackage is one package of an apko lock.
type lockedPackage struct {
	Name, URL, Version, Architecture string
	Control, Data                    struct{ Checksum string }
}

// extractLocked runs apk-extract on the lock's i-th package p (its URL relative to dir),
// writing work/<i>.blob, .meta and .facts, and returns the function naming those files.
func extractLocked(t *testing.T, dir, work string, i int, p lockedPackage) func(string) string {
	t.Helper()
	o := func(s string) string { return filepath.Join(work, fmt.Sprintf("%d.%s", i, s)) }
	if err := apkExtract([]string{"--name", p.Name, "--version", p.Version, "--arch", p.Architecture,
		"--part", filepath.Join(dir, p.URL), "--control-checksum", p.Control.Checksum, "--data-checksum", p.Data.Checksum,
		"--blob", o("blob"), "--metadata", o("meta"), "--facts", o("facts")}); err != nil {
		t.Fatal(err)
	}
	return o
}

// readLock reads an apko lock file.
func readLock(t *testing.T, path string) lockFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lock lockFile
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	return lock
}

// writeRepo builds the packages, signed with a new key, and writes them and their index
// (with the description) under dir/repo/x86_64 and the public key as dir/keyName.
func writeRepo(t *testing.T, dir, keyName, description string, pkgs []apktest.Package) {
	t.Helper()
	key, err := apktest.NewKey(keyName)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, keyName), key.PublicPEM(), 0o644)
	repo := filepath.Join(dir, "repo", "x86_64")
	os.MkdirAll(repo, 0o755)
	var built []*apktest.Built
	for _, p := range pkgs {
		b, err := apktest.Build(p, key)
		if err != nil {
			t.Fatal(err)
		}
		built = append(built, b)
		os.WriteFile(filepath.Join(repo, p.Name+"-"+p.Version+".apk"), b.APK, 0o644)
	}
	idx, err := apktest.Index(built, key, description)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(repo, "APKINDEX.tar.gz"), idx, 0o644)
}

// buildOurs runs the verbs the rules run for one lock (x86_64) and apko.yaml, resolving the
// lock's relative URLs against dir as apko does with its working directory, and returns the
// stacked rootfs (packages, apk database, accounts and paths) and the image config.
func buildOurs(t *testing.T, dir, lockPath, config, repository string, annotations map[string]string) (map[string]node, imageConfig) {
	t.Helper()
	lock := readLock(t, lockPath)
	work := t.TempDir()
	w := func(s string) string { return filepath.Join(work, s) }
	fs := map[string]node{}
	var dbArgs, apkoArgs []string
	for i, p := range lock.Contents.Packages {
		if p.Architecture != "x86_64" {
			continue
		}
		o := extractLocked(t, dir, work, i, p)
		blob, _ := os.ReadFile(o("blob"))
		apply(t, fs, blob)
		dbArgs = append(dbArgs, "--package", o("facts"))
		apkoArgs = append(apkoArgs, "--facts", o("facts"), "--data", o("blob"))
	}
	for _, k := range lock.Contents.Keyring {
		dbArgs = append(dbArgs, "--key", filepath.Join(dir, k.URL))
	}
	dbArgs = append(dbArgs, "--repository", repository, "--arch", "x86_64", "--blob", w("db.blob"), "--metadata", w("db.meta"))
	if err := installdbVerb(dbArgs, io.Discard); err != nil {
		t.Fatal(err)
	}
	db, _ := os.ReadFile(w("db.blob"))
	apply(t, fs, db)
	apkoArgs = append(apkoArgs, "--config", config, "--database", w("db.blob"), "--arch", "x86_64", "--blob", w("apko.blob"), "--metadata", w("apko.meta"), "--user", w("apko.user"))
	if err := apkoLayerVerb(apkoArgs); err != nil {
		t.Fatal(err)
	}
	acc, _ := os.ReadFile(w("apko.blob"))
	apply(t, fs, acc)
	// The image config from the same file, no attribute set.
	spec, _ := json.Marshal(map[string]any{"os": "linux", "architecture": "amd64", "annotations": annotations})
	os.WriteFile(w("spec.json"), spec, 0o644)
	imgArgs, err := apkoImageArgs(dir, w("spec.json"), config, w("apko.user"), "x86_64", "0")
	if err != nil {
		t.Fatal(err)
	}
	if err := imageVerb(append(imgArgs, "--layer", w("apko.meta"), "--config", w("config.json"), "--manifest", w("manifest.json"),
		"--digest", w("digest"), "--descriptor", w("desc.json"))); err != nil {
		t.Fatal(err)
	}
	var ours struct{ Config imageConfig }
	b, _ := os.ReadFile(w("config.json"))
	if err := json.Unmarshal(b, &ours); err != nil {
		t.Fatal(err)
	}
	return fs, ours.Config
}

// readLayout stacks the layers of the amd64 image of an OCI layout and returns its rootfs
// and config.
func readLayout(t *testing.T, dir string) (map[string]node, imageConfig) {
	t.Helper()
	layers, cfg := layoutLayers(t, dir)
	fs := map[string]node{}
	for _, l := range layers {
		apply(t, fs, l)
	}
	return fs, cfg.Config
}

// layoutConfig is what the tests read of an image's config file.
type layoutConfig struct {
	Config  imageConfig
	History []struct {
		CreatedBy string `json:"created_by"`
	}
}

// layoutLayers returns the layer blobs (bottom first) and config of the amd64 image of an
// OCI layout.
func layoutLayers(t *testing.T, dir string) ([][]byte, layoutConfig) {
	t.Helper()
	blob := func(digest string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var idx struct {
		Manifests []struct {
			Digest    string
			MediaType string
			Platform  struct{ Architecture string }
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &idx)
	// apko's output index.json points at an index of per-platform images.
	if len(idx.Manifests) == 1 && strings.HasSuffix(idx.Manifests[0].MediaType, "index.v1+json") {
		json.Unmarshal(blob(idx.Manifests[0].Digest), &idx)
	}
	var layers [][]byte
	var cfg layoutConfig
	for _, m := range idx.Manifests {
		if m.Platform.Architecture != "amd64" {
			continue
		}
		var man struct {
			Config struct{ Digest string }
			Layers []struct{ Digest string }
		}
		json.Unmarshal(blob(m.Digest), &man)
		json.Unmarshal(blob(man.Config.Digest), &cfg)
		for _, l := range man.Layers {
			layers = append(layers, blob(l.Digest))
		}
	}
	if len(layers) == 0 {
		t.Fatalf("%s: no amd64 image", dir)
	}
	return layers, cfg
}

// compare compares every path's type, mode, owner, link target, device numbers and content,
// and the image configs.
func compare(t *testing.T, what string, apko map[string]node, apkoCfg imageConfig, fs map[string]node, cfg imageConfig) {
	t.Helper()
	if !reflect.DeepEqual(cfg, apkoCfg) {
		t.Errorf("image config differs:\n  apko:        %+v\n  rules_wharf: %+v", apkoCfg, cfg)
	} else {
		t.Logf("image config equal: %+v", cfg)
	}
	var paths []string
	for p := range apko {
		paths = append(paths, p)
	}
	for p := range fs {
		if _, ok := apko[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	owners := packageOwners(apko["usr/lib/apk/db/installed"].data)
	compared := 0
	for _, p := range paths {
		if why, skip := notCompared[p]; skip {
			t.Logf("not compared: /%s (%s)", p, why)
			continue
		}
		g, inApko := apko[p]
		o, inOurs := fs[p]
		switch {
		case !inApko:
			t.Errorf("/%s: only in rules_wharf's image (%v)", p, o)
		case !inOurs:
			t.Errorf("/%s: only in apko's image (%v)", p, g)
		case p == "usr/lib/apk/db/installed":
			// apko prints an empty install_if list as "i:[]" (a Go slice); apk writes "i:".
			if want := strings.ReplaceAll(g.data, "\ni:[]\n", "\ni:\n"); o.data != want {
				t.Errorf("installed db differs:\n--- apko\n%s\n--- rules_wharf\n%s", want, o.data)
			}
			o.data, g.data = "", ""
			fallthrough
		default:
			if why := deliberate(&o, g, owners[p]); why != "" {
				t.Logf("/%s: %s (docs/apk.md, apko equivalence)", p, why)
			}
			if o != g {
				t.Errorf("/%s differs:\n  apko:        %v\n  rules_wharf: %v", p, g, o)
			}
		}
		compared++
	}
	t.Logf("compared %d paths with %s", compared, what)
}

// mustApko runs the apko binary in dir, as of the epoch, failing the test when it fails.
func mustApko(t *testing.T, apko, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(apko, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apko %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// apkoImage has apko build dir/apko.yaml from dir/apko.lock.json, offline, for x86_64, and
// returns the image's rootfs and config.
func apkoImage(t *testing.T, apko, dir string) (map[string]node, imageConfig) {
	t.Helper()
	mustApko(t, apko, dir, "build", "--offline", "--sbom=false", "--arch", "x86_64", "--cache-dir", filepath.Join(dir, "cache"),
		"--lockfile", "apko.lock.json", "apko.yaml", "equiv:apko", filepath.Join(dir, "image.tar"))
	layoutDir := filepath.Join(dir, "layout")
	apkooracle.Untar(t, filepath.Join(dir, "image.tar"), layoutDir)
	return readLayout(t, layoutDir)
}

// packageOwners reads the owner an installed database records for each package file (its
// "a:uid:gid:mode" lines), by path.
func packageOwners(installed string) map[string][2]int {
	out := map[string][2]int{}
	dir, file := "", ""
	for _, line := range strings.Split(installed, "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "F":
			dir, file = v, ""
		case "R":
			file = path.Join(dir, v)
		case "a":
			var uid, gid int
			if _, err := fmt.Sscanf(v, "%d:%d:", &uid, &gid); err == nil && file != "" {
				out[file] = [2]int{uid, gid}
			}
		}
	}
	return out
}

// deliberate recognizes the two deliberate differences of a package's entries, where
// rules_wharf's layer is the package's data tar as it is (as apk-tools installs it) and
// apko (v0.30.34 and v1.2.39 alike) installs:
//   - files as root, whatever owner their tar entry gives (its own database still records
//     the package's owner, pkg);
//   - directories without their setgid and sticky bits (it creates them with the mode's
//     permission bits only: a package's sticky /var/tmp would be world-writable without
//     the sticky bit).
//
// It says which, and sets ours to what apko has, or returns "".
func deliberate(ours *node, apko node, pkg [2]int) string {
	o := *ours
	var why []string
	if apko.uid == 0 && apko.gid == 0 && pkg == [2]int{o.uid, o.gid} && pkg != [2]int{} {
		why = append(why, fmt.Sprintf("owner %d:%d as its package's tar and apko's own database say; apko writes 0:0", o.uid, o.gid))
		o.uid, o.gid = 0, 0
	}
	if o.typ == tar.TypeDir && o.mode&0o3000 != 0 && apko.mode == o.mode&0o777 {
		why = append(why, fmt.Sprintf("directory mode %04o as its package's tar says; apko drops setgid and sticky: %04o", o.mode, apko.mode))
		o.mode &= 0o777
	}
	if len(why) == 0 || o != apko {
		return ""
	}
	*ours = o
	return strings.Join(why, "; ")
}

func TestApkoEquivalence(t *testing.T) {
	cli := filepath.Join(apkooracle.ModuleDir(t), "internal", "cli")
	// The lock's apko.yaml has no accounts: apko writes /etc/passwd anyway, empty.
	// apko's build_test.go made the golden image with two annotations: the rule's
	// annotations attribute here.
	fs, cfg := buildOurs(t, cli, filepath.Join(cli, "testdata", "apko.lock.json"), filepath.Join(cli, "testdata", "apko.yaml"), "./testdata/packages",
		map[string]string{"org.opencontainers.image.vendor": "Vendor", "org.opencontainers.image.title": "Title"})
	golden, gcfg := readLayout(t, filepath.Join(cli, "testdata", "golden"))
	compare(t, "apko v1.2.39's golden image", golden, gcfg, fs, cfg)
}

func TestApkoEquivalenceExample(t *testing.T) {
	apko := apkooracle.Binary(t)
	example, err := filepath.Abs(filepath.Join("..", "..", "..", "examples", "hello_image"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command(apko, "build", "--offline", "--sbom=false", "--arch", "x86_64", "--cache-dir", filepath.Join(out, "cache"),
		"--lockfile", "apko.lock.json", "apko.yaml", "example:apko", filepath.Join(out, "image.tar"))
	cmd.Dir = example
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apko build: %v\n%s", err, b)
	}
	// apko's tarball holds an OCI layout (index.json, blobs by digest as sha256:<hex>).
	layoutDir := filepath.Join(out, "layout")
	apkooracle.Untar(t, filepath.Join(out, "image.tar"), layoutDir)
	apkoFS, apkoCfg := readLayout(t, layoutDir)
	fs, cfg := buildOurs(t, example, filepath.Join(example, "apko.lock.json"), filepath.Join(example, "apko.yaml"), "../apk_repo", nil)
	for _, p := range []string{"etc/passwd", "etc/group", "etc/shadow", "var/lib/hello", "etc/motd"} {
		if _, ok := apkoFS[p]; !ok {
			t.Fatalf("apko's image has no /%s: the example no longer exercises accounts and paths", p)
		}
	}
	compare(t, "the image apko v1.2.39 builds from examples/hello_image/apko.yaml", apkoFS, apkoCfg, fs, cfg)
}

// TestApkoEquivalenceAccountsAndPaths builds a repository whose packages bring their own
// /etc/passwd and /etc/group, a hard link, a symlinked /var/run and a directory tree, and an
// apko.yaml with every path mutation type (recursive directory, writes through a symlink,
// hard link, symlink onto a hard-linked file, permissions on a package file, a recursive
// directory over the apk database layer's /etc/apk, a device) and users with
// and without gid, shell and home; apko v1.2.39 locks and builds it, and our verbs must give
// the same rootfs and config.
func TestApkoEquivalenceAccountsAndPaths(t *testing.T) {
	apko := apkooracle.Binary(t)
	dir := t.TempDir()
	writeRepo(t, dir, "equiv.rsa.pub", "equivalence", accountsAndPathsPackages())
	os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(accountsAndPathsConfig), 0o644)
	mustApko(t, apko, dir, "lock", "apko.yaml", "--output", "apko.lock.json")
	apkoFS, apkoCfg := apkoImage(t, apko, dir)
	fs, cfg := buildOurs(t, dir, filepath.Join(dir, "apko.lock.json"), filepath.Join(dir, "apko.yaml"), "./repo", nil)
	for _, p := range []string{"nonexistent/nobody", "run/svc", "run/app/sock", "usr/bin/tool-hl", "usr/local/bin/t", "etc/app/app.conf", "etc/shadow", "usr/bin/su", "srv/sticky"} {
		if _, ok := apkoFS[p]; !ok {
			t.Errorf("apko's image has no /%s: the test no longer exercises what it says", p)
		}
	}
	compare(t, "the image apko v1.2.39 builds from a configuration with every mutation type", apkoFS, apkoCfg, fs, cfg)
}

// accountsAndPathsPackages: a base with accounts, links, a hardlink, special modes and a
// shadow file apko rewrites, and a package that depends on it.
func accountsAndPathsPackages() []apktest.Package {
	return []apktest.Package{
		{Name: "base", Version: "1.0-r0", Arch: "x86_64", Origin: "base", BuildDate: 1700000000, Files: []apktest.File{
			{Path: "etc", Dir: true},
			{Path: "etc/passwd", Content: "root:x:0:0:root:/root:/bin/sh\ndaemon:x:2:2:daemon:/sbin:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent/nobody:/sbin/nologin\n"},
			{Path: "etc/group", Content: "root:x:0:root\ndaemon:x:2:\nnobody:x:65534:\n"},
			{Path: "root", Dir: true, Mode: 0o700}, {Path: "sbin", Dir: true}, {Path: "run", Dir: true},
			{Path: "var", Dir: true}, {Path: "var/run", Linkname: "../run"},
			{Path: "usr", Dir: true}, {Path: "usr/bin", Dir: true},
			{Path: "usr/bin/tool", Content: "#!/bin/sh\necho tool\n", Mode: 0o755},
			{Path: "usr/bin/tool2", Linkname: "usr/bin/tool", Hardlink: true},
			{Path: "srv", Dir: true}, {Path: "srv/data", Dir: true},
			{Path: "srv/data/a.txt", Content: "a\n"}, {Path: "srv/data/sub", Dir: true, Mode: 0o700},
			{Path: "srv/data/sub/b.txt", Content: "b\n", Mode: 0o600, UID: 2, GID: 2},
			{Path: "srv/data/link", Linkname: "a.txt"},
			{Path: "srv/dirlink", Linkname: "/etc"},
			{Path: "etc/empty.conf", Content: "", Mode: 0o600},
			// apko v1.2.39 rewrites it without the third field (the last password change).
			{Path: "etc/shadow", Content: "root:*:19000:0:99999:7:::\ndaemon:!::0:::::\n", Mode: 0o640},
			// setuid, setgid and sticky bits, kept from the package.
			{Path: "usr/bin/su", Content: "su\n", Mode: 0o4755},
			{Path: "usr/bin/wall", Content: "wall\n", Mode: 0o2755, GID: 5},
			{Path: "usr/bin/helper", Content: "helper\n", Mode: 0o755},
			{Path: "var/tmp", Dir: true, Mode: 0o1777},
			{Path: "srv/shared", Dir: true, Mode: 0o2775},
		}},
		{Name: "extra", Version: "2.0-r1", Arch: "x86_64", Origin: "extra", BuildDate: 1700000001, Depends: []string{"base"}, Files: []apktest.File{
			{Path: "usr", Dir: true}, {Path: "usr/share", Dir: true}, {Path: "usr/share/extra", Dir: true},
			{Path: "usr/share/extra/x.conf", Content: "x=1\n"},
		}},
	}
}

// accountsAndPathsConfig uses every kind of account and path mutation apko v1.2.39 has.
const accountsAndPathsConfig = `contents:
  repositories: [./repo]
  keyring: [./equiv.rsa.pub]
  packages: [extra]
archs: [x86_64]
accounts:
  run-as: svc
  users:
    - username: app
      uid: 1000
      gid: 1000
    - username: svc
      uid: 1001
      shell: /bin/false
      homedir: /var/run/svc
  groups:
    - groupname: app
      gid: 1000
      members: [app, svc]
entrypoint:
  shell-fragment: echo "hello $HOME"
environment:
  A: "1"
work-dir: /srv/data
volumes: [/srv/data, /run]
annotations:
  org.example.k: v
vcs-url: https://example.com/repo@0123abc
stop-signal: SIGQUIT
paths:
  - path: /srv/data
    type: directory
    uid: 1000
    gid: 1000
    permissions: 0o750
    recursive: true
  - path: /var/run/app/sock
    type: directory
    uid: 1000
    gid: 1000
    permissions: 0o755
  - path: /etc/app/app.conf
    type: empty-file
    uid: 1000
    permissions: 0o640
  - path: /usr/bin/tool-hl
    type: hardlink
    source: /usr/bin/tool
    permissions: 0o711
  - path: /usr/local/bin/t
    type: symlink
    source: /usr/bin/tool2
    permissions: 0o755
    gid: 1000
  - path: /usr/share/extra/x.conf
    type: permissions
    uid: 1000
    permissions: 0o600
  - path: /etc/apk
    type: directory
    uid: 1000
    permissions: 0o750
    recursive: true
  - path: /dev/null
    type: permissions
    gid: 5
    permissions: 0o660
  - path: /srv/dirlink
    type: hardlink
    source: /usr/share/extra/x.conf
    permissions: 0o640
    # No uid or gid: apko v1.2.39 leaves the owner (rootfs TestPathsWithoutOwnerKeepTheOwner).
  - path: /etc/empty.conf
    type: empty-file
    permissions: 0o644
  - path: /usr/bin/helper
    type: permissions
    permissions: 0o4711
  - path: /srv/sticky
    type: directory
    permissions: 0o1777
  - path: /srv/group
    type: directory
    gid: 1000
    permissions: 0o2770
`

// apkPackages reads an SPDX document's APK packages as name@version?arch=ARCH from their
// package URLs, sorted. The namespace is left out, a deliberate difference: apko copies the
// package URL of each package's own SBOM (melange's: pkg:apk/unknown/... for these test
// packages), rules_wharf writes the os-release ID the packages install (and its distro
// qualifier), as syft and Alpine's tooling spell it.
func apkPackages(t *testing.T, spdxPath string) []string {
	t.Helper()
	b, err := os.ReadFile(spdxPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Packages []struct {
			ExternalRefs []struct{ ReferenceLocator string }
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", spdxPath, err)
	}
	var out []string
	for _, p := range doc.Packages {
		for _, r := range p.ExternalRefs {
			rest, ok := strings.CutPrefix(r.ReferenceLocator, "pkg:apk/")
			if !ok {
				continue
			}
			_, nameVersion, _ := strings.Cut(rest, "/")
			nameVersion, query, _ := strings.Cut(nameVersion, "?")
			arch := ""
			for _, q := range strings.Split(query, "&") {
				if a, ok := strings.CutPrefix(q, "arch="); ok {
					arch = a
				}
			}
			out = append(out, nameVersion+"?arch="+arch)
		}
	}
	sort.Strings(out)
	return out
}

// TestApkoEquivalenceSBOM: the APK packages of the SBOM rules_wharf writes for apko's test
// lock (x86_64) are those of apko v1.2.39's golden SBOM, package URL for package URL.
func TestApkoEquivalenceSBOM(t *testing.T) {
	cli := filepath.Join(apkooracle.ModuleDir(t), "internal", "cli")
	lock := readLock(t, filepath.Join(cli, "testdata", "apko.lock.json"))
	work := t.TempDir()
	args := []string{"--name", "//golden:image", "--out", filepath.Join(work, "sbom.spdx.json")}
	for i, p := range lock.Contents.Packages {
		if p.Architecture != "x86_64" {
			continue
		}
		o := extractLocked(t, cli, work, i, p)
		args = append(args, "--package", o("facts"), "--url", p.URL)
	}
	if err := sbomVerb(args); err != nil {
		t.Fatal(err)
	}
	ours := apkPackages(t, filepath.Join(work, "sbom.spdx.json"))
	apko := apkPackages(t, filepath.Join(cli, "testdata", "golden", "sboms", "sbom-x86_64.spdx.json"))
	if len(apko) == 0 || !reflect.DeepEqual(ours, apko) {
		t.Fatalf("APK packages differ:\n  apko:        %q\n  rules_wharf: %q", apko, ours)
	}
	t.Logf("the same %d APK packages: %q", len(ours), ours)
}
