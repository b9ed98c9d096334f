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
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
)

// layerFiles lists a layer's entries other than directories, with the content of
// usr/lib/apk/db/installed when the layer has one.
func layerFiles(t *testing.T, blob []byte) (files []string, installed string) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			sort.Strings(files)
			return files, installed
		}
		if err != nil {
			t.Fatal(err)
		}
		p := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if h.Typeflag == tar.TypeDir {
			continue
		}
		if p == "usr/lib/apk/db/installed" {
			b, _ := io.ReadAll(tr)
			installed = string(b)
		}
		files = append(files, p)
	}
}

// dbPackages lists the packages (name-version) an installed database holds, in its order.
func dbPackages(installed string) []string {
	var out []string
	name := ""
	for _, line := range strings.Split(installed, "\n") {
		switch k, v, _ := strings.Cut(line, ":"); k {
		case "P":
			name = v
		case "V":
			out = append(out, name+"-"+v)
		}
	}
	sort.Strings(out)
	return out
}

// dbFiles lists the files an installed database gives its packages.
func dbFiles(installed string) map[string]bool {
	out := map[string]bool{}
	dir := ""
	for _, line := range strings.Split(installed, "\n") {
		switch k, v, _ := strings.Cut(line, ":"); k {
		case "F":
			dir = v
		case "R":
			out[path.Join(dir, v)] = true
		}
	}
	return out
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
	_, fullDB := layerFiles(t, theirs[len(theirs)-1])
	owned := dbFiles(fullDB)
	for i := range theirs {
		tf, tdb := layerFiles(t, theirs[i])
		of, _ := layerFiles(t, ours[i])
		if i < len(theirs)-1 {
			// Which packages: apko's partial database in the layer; our history entry.
			want := strings.Join(dbPackages(tdb), " ")
			if got := strings.TrimPrefix(cfg.History[i].CreatedBy, "apk "); got != want {
				t.Errorf("layer %d holds %s, apko's %s", i, got, want)
			}
			// apko adds a partial installed database to every group layer (docs/apk-install.md).
			tf = without(tf, map[string]bool{"usr/lib/apk/db/installed": true})
		} else {
			// A package file that `paths` changes stays in apko's package layer, with the
			// new metadata; ours restates it in the top layer. /etc/apko.json: not written.
			restated := map[string]bool{}
			for _, f := range of {
				restated[f] = owned[f]
			}
			if !restated["etc/motd"] {
				t.Errorf("top layer restates no package file: the example no longer changes one with paths")
			}
			of = without(of, restated)
			tf = without(tf, map[string]bool{"etc/apko.json": true})
		}
		if strings.Join(of, " ") != strings.Join(tf, " ") {
			t.Errorf("layer %d files:\n  apko:        %v\n  rules_wharf: %v", i, tf, of)
		} else {
			t.Logf("layer %d: %d files, as apko's: %v", i, len(of), of)
		}
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
