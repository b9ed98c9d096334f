//go:build e2e

package verbs

// TestApkoLayering: origin layering (`layering: {strategy: origin, budget: N}`) as apko
// v1.2.39 builds it and as Bazel builds examples/hello_image:apko_layering_image
// (apk_layering = "origin"): the same packages in the same layers, in the same order, each
// layer with the same files, and the same filesystem stacked.
//
//	go test -tags e2e -run ApkoLayering ./tools/internal/verbs/

import (
	"archive/tar"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
)

// layerFiles lists a layer's entries other than directories, with the content of
// usr/lib/apk/db/installed when the layer has one.
func layerFiles(t *testing.T, blob []byte) (files []string, installed string) {
	t.Helper()
	fs := map[string]node{}
	apply(t, fs, blob)
	for p, n := range fs {
		if n.typ != tar.TypeDir {
			files = append(files, p)
		}
	}
	sort.Strings(files)
	return files, fs["usr/lib/apk/db/installed"].data
}

// readDB lists the packages (name-version, sorted) of an installed database and the files
// it gives them.
func readDB(installed string) (pkgs []string, files map[string]bool) {
	files = map[string]bool{}
	name, dir := "", ""
	for _, line := range strings.Split(installed, "\n") {
		switch k, v, _ := strings.Cut(line, ":"); k {
		case "P":
			name = v
		case "V":
			pkgs = append(pkgs, name+"-"+v)
		case "F":
			dir = v
		case "R":
			files[path.Join(dir, v)] = true
		}
	}
	sort.Strings(pkgs)
	return pkgs, files
}

// without returns files without those in drop.
func without(files []string, drop map[string]bool) []string {
	var out []string
	for _, f := range files {
		if !drop[f] {
			out = append(out, f)
		}
	}
	return out
}

// checkLayers compares apko's layers with the first of ours: each group layer's packages
// (apko's partial database, our history entry) and files other than directories, and the
// top layer's files. It returns the package files our top layer restates (those `paths`
// changes, which apko changes in their package's layer), left out of the comparison.
func checkLayers(t *testing.T, theirs, ours [][]byte, cfg layoutConfig) map[string]bool {
	t.Helper()
	_, fullDB := layerFiles(t, theirs[len(theirs)-1])
	_, owned := readDB(fullDB)
	restated := map[string]bool{}
	for i := range theirs {
		tf, tdb := layerFiles(t, theirs[i])
		of, _ := layerFiles(t, ours[i])
		if i < len(theirs)-1 {
			pkgs, _ := readDB(tdb)
			want := strings.Join(pkgs, " ")
			if got := strings.TrimPrefix(cfg.History[i].CreatedBy, "apk "); !sameWords(got, want) {
				t.Errorf("layer %d holds %s, apko's %s", i, got, want)
			}
			// apko adds a partial installed database to every group layer (docs/apk-install.md).
			tf = without(tf, map[string]bool{"usr/lib/apk/db/installed": true})
		} else {
			for _, f := range of {
				restated[f] = owned[f]
			}
			of = without(of, restated)
			tf = without(tf, map[string]bool{"etc/apko.json": true}) // not written
		}
		if strings.Join(of, " ") != strings.Join(tf, " ") {
			t.Errorf("layer %d files:\n  apko:        %v\n  rules_wharf: %v", i, tf, of)
		} else {
			t.Logf("layer %d (%s): %d files, as apko's: %v", i, cfg.History[i].CreatedBy, len(of), of)
		}
	}
	return restated
}

func TestApkoLayering(t *testing.T) {
	apko := apkooracle.Binary(t)
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	example := filepath.Join(root, "examples", "hello_image")
	out := t.TempDir()
	mustApko(t, apko, example, "lock", "apko.layering.yaml", "--output", filepath.Join(out, "apko.lock.json"))
	mustApko(t, apko, example, "build", "--offline", "--sbom=false", "--arch", "x86_64", "--cache-dir", filepath.Join(out, "cache"),
		"--lockfile", filepath.Join(out, "apko.lock.json"), "apko.layering.yaml", "layering:apko", filepath.Join(out, "image.tar"))
	apkooracle.Untar(t, filepath.Join(out, "image.tar"), filepath.Join(out, "layout"))
	theirs, _ := layoutLayers(t, filepath.Join(out, "layout"))

	build := exec.Command(filepath.Join(root, "tools", "bazel"), "build", "--output_groups=+layout", "//examples/hello_image:apko_layering_image")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("bazel build: %v\n%s", err, b)
	}
	ours, cfg := layoutLayers(t, filepath.Join(root, "bazel-bin", "examples", "hello_image", "apko_layering_image"))
	// apko's layers, then the example's own (:app).
	if len(ours) != len(theirs)+1 || len(theirs) != 3 {
		t.Fatalf("%d layers, apko %d: want apko's (2 origin groups and its top layer) and :app", len(ours), len(theirs))
	}
	if restated := checkLayers(t, theirs, ours, cfg); !restated["etc/motd"] {
		t.Errorf("top layer restates no package file: the example no longer changes /etc/motd with paths")
	}
	// Stacked, the same filesystem (every path's type, mode, owner, content).
	apkoFS, apkoCfg := readLayout(t, filepath.Join(out, "layout"))
	fs := map[string]node{}
	for _, l := range ours[:len(theirs)] {
		apply(t, fs, l)
	}
	// wharf-motd replaces wharf-baselayout's /etc/motd: in their shared layer (the top layer
	// restates it, as paths changes its owner), the replacer's file is the one there.
	group := map[string]node{}
	apply(t, group, ours[0])
	if m := group["etc/motd"]; m.data != "Welcome to a rules_wharf image.\n" {
		t.Errorf("/etc/motd in the group layer: %q, want wharf-motd's", m.data)
	}
	compare(t, "the image apko v1.2.39 builds from examples/hello_image/apko.layering.yaml", apkoFS, apkoCfg, fs, cfg.Config)
	os.RemoveAll(filepath.Join(out, "cache"))
}

// layeringCorpus is a repository whose grouping exercises every rule of apko's: one origin
// of two packages (openssl), a package that replaces another (motd, base), two groups of
// equal size (ordered by their greatest package name), and more groups than the budget (5:
// the last groups merge). Installed sizes are the files' lengths.
func layeringCorpus() []apktest.Package {
	file := func(p string, n int) apktest.File {
		return apktest.File{Path: p, Content: strings.Repeat(path.Base(p)[:1], n)}
	}
	pkg := func(name, origin string, deps []string, files ...apktest.File) apktest.Package {
		return apktest.Package{Name: name, Version: "1.0-r0", Arch: "x86_64", Origin: origin, BuildDate: 1700000000,
			Depends: deps, Files: files}
	}
	motd := pkg("motd", "motd", []string{"base"}, apktest.File{Path: "etc", Dir: true}, apktest.File{Path: "etc/motd", Content: "motd's\n"})
	motd.Replaces = []string{"base"}
	return []apktest.Package{
		pkg("base", "base", nil, apktest.File{Path: "etc", Dir: true}, apktest.File{Path: "etc/motd", Content: "base's\n"}, file("etc/os-release", 40)),
		motd,
		pkg("libcrypto3", "openssl", []string{"base"}, apktest.File{Path: "usr", Dir: true}, apktest.File{Path: "usr/lib", Dir: true}, file("usr/lib/libcrypto.so.3", 3000)),
		pkg("libssl3", "openssl", []string{"libcrypto3"}, apktest.File{Path: "usr", Dir: true}, apktest.File{Path: "usr/lib", Dir: true}, file("usr/lib/libssl.so.3", 1000)),
		pkg("tools", "tools", []string{"base"}, apktest.File{Path: "usr", Dir: true}, apktest.File{Path: "usr/bin", Dir: true}, file("usr/bin/tools", 3500)),
		pkg("zlib", "zlib", nil, apktest.File{Path: "usr", Dir: true}, apktest.File{Path: "usr/lib", Dir: true}, file("usr/lib/libz.so.1", 1500)),
		pkg("tzdata", "tzdata", nil, apktest.File{Path: "usr", Dir: true}, apktest.File{Path: "usr/share", Dir: true}, file("usr/share/zoneinfo", 1200)),
		pkg("ca-certificates-bundle", "ca-certificates", nil, apktest.File{Path: "etc", Dir: true}, apktest.File{Path: "etc/ssl", Dir: true}, file("etc/ssl/cert.pem", 1200)),
	}
}

// TestApkoLayeringCorpus: the corpus served over http (so the package repositories read
// .PKGINFO from control members fetched by range), locked by apko v1.2.39, built by apko
// with `layering: {strategy: origin, budget: 5}` and by Bazel (a module using rules_wharf,
// apk_layering = "origin"): the same packages in the same layers, in the same order.
func TestApkoLayeringCorpus(t *testing.T) {
	apko := apkooracle.Binary(t)
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cache := os.Getenv("WHARF_CACHE")
	if cache == "" {
		cache = filepath.Join(os.Getenv("HOME"), ".cache", "rules_wharf")
	}
	ws := filepath.Join(cache, "e2e-layering") // fixed: the output base is reused between runs
	os.RemoveAll(ws)
	os.MkdirAll(ws, 0o755)
	writeRepo(t, ws, "layering.rsa.pub", "layering", layeringCorpus())
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(ws, "repo"))))
	defer srv.Close()
	for name, content := range layeringWorkspace(root, srv.URL) {
		os.WriteFile(filepath.Join(ws, name), []byte(content), 0o644)
	}
	mustApko(t, apko, ws, "lock", "apko.yaml", "--output", "apko.lock.json")
	mustApko(t, apko, ws, "build", "--sbom=false", "--arch", "x86_64", "--cache-dir", filepath.Join(ws, "apko-cache"),
		"--lockfile", "apko.lock.json", "apko.yaml", "layering:apko", filepath.Join(ws, "image.tar"))
	apkooracle.Untar(t, filepath.Join(ws, "image.tar"), filepath.Join(ws, "layout"))
	theirs, _ := layoutLayers(t, filepath.Join(ws, "layout"))
	ours, cfg := bazelLayout(t, root, ws)
	if len(ours) != len(theirs) || len(theirs) != 6 {
		t.Fatalf("%d layers, apko %d: want 5 groups and the top layer", len(ours), len(theirs))
	}
	for f, pkgFile := range checkLayers(t, theirs, ours, cfg) {
		if pkgFile {
			t.Errorf("top layer restates package file %s, though no paths change it", f)
		}
	}
	want := []string{"apk libcrypto3-1.0-r0 libssl3-1.0-r0", "apk tools-1.0-r0", "apk zlib-1.0-r0",
		"apk ca-certificates-bundle-1.0-r0", "apk base-1.0-r0 motd-1.0-r0 tzdata-1.0-r0"}
	for i, w := range want {
		if got := cfg.History[i].CreatedBy; !sameWords(got, w) {
			t.Errorf("layer %d: %s, want %s", i, got, w)
		}
	}
	group := map[string]node{}
	apply(t, group, ours[4])
	if m := group["etc/motd"]; m.data != "motd's\n" {
		t.Errorf("/etc/motd in the merged group: %q, want motd's (it replaces base)", m.data)
	}
	apkoFS, apkoCfg := readLayout(t, filepath.Join(ws, "layout"))
	fs := map[string]node{}
	for _, l := range ours {
		apply(t, fs, l)
	}
	compare(t, "the corpus image apko v1.2.39 builds with layering", apkoFS, apkoCfg, fs, cfg.Config)
}

// layeringWorkspace: the files of a module that uses the rules_wharf at root and locks and
// builds the apko.yaml of the corpus served at repoURL, with layering by origin.
func layeringWorkspace(root, repoURL string) map[string]string {
	return map[string]string{
		"apko.yaml": "contents:\n  keyring: [./layering.rsa.pub]\n  repositories: [" + repoURL + "]\n" +
			"  packages: [motd, libssl3, tools, zlib, tzdata, ca-certificates-bundle]\narchs: [x86_64]\n" +
			"entrypoint:\n  command: /usr/bin/tools\nlayering:\n  strategy: origin\n  budget: 5\n",
		".bazelrc": "common --lockfile_mode=off\n",
		"MODULE.bazel": fmt.Sprintf(`module(name = "layering")

bazel_dep(name = "rules_wharf", version = "0.0.0")
local_path_override(module_name = "rules_wharf", path = %q)

bazel_dep(name = "rules_wharf_tools", version = "0.0.0")
local_path_override(module_name = "rules_wharf_tools", path = %q)

bazel_dep(name = "rules_go", version = "0.60.0")
bazel_dep(name = "gazelle", version = "0.43.0")

go_sdk = use_extension("@rules_go//go:extensions.bzl", "go_sdk")
go_sdk.host()

go_deps = use_extension("@gazelle//:extensions.bzl", "go_deps")
go_deps.gazelle_default_attributes(directives = ["gazelle:proto disable"])

apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "corpus", lock = "//:apko.lock.json")
use_repo(apk, "corpus")
`, root, filepath.Join(root, "tools")),
		"BUILD.bazel": `load("@rules_wharf//oci:defs.bzl", "apko_image")

apko_image(name = "image", config = "apko.yaml", apks = "@corpus", apk_layer_budget = 5, apk_layering = "origin")
`,
	}
}

// bazelLayout builds //:image's layout in the workspace ws with the rules_wharf at root,
// shutting its Bazel server down when the test ends, and returns the layout's layers.
func bazelLayout(t *testing.T, root, ws string) ([][]byte, layoutConfig) {
	t.Helper()
	bazel := filepath.Join(root, "tools", "bazel")
	build := exec.Command(bazel, "build", "--output_groups=+layout", "//:image")
	build.Dir, build.Env = ws, append(os.Environ(), "WHARF_BIND="+root)
	b, err := build.CombinedOutput()
	t.Cleanup(func() {
		down := exec.Command(bazel, "shutdown")
		down.Dir, down.Env = ws, build.Env
		down.Run()
	})
	if err != nil {
		t.Fatalf("bazel build: %v\n%s", err, b)
	}
	return layoutLayers(t, filepath.Join(ws, "bazel-bin", "image"))
}

// sameWords says whether a and b hold the same words in any order.
func sameWords(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	sort.Strings(x)
	sort.Strings(y)
	return strings.Join(x, " ") == strings.Join(y, " ")
}
