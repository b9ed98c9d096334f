//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

var (
	wharfOnce sync.Once
	wharfBin  string
	wharfErr  error
)

// prebuiltToolchain puts this checkout's wharf, built once per test run with the host Go,
// into ws as the package //wharf_toolchain (a toolchain, as docs/workspace.md and the
// README show): the modules built here then skip compiling the tool, which
// TestConsumerModule covers, from source.
func prebuiltToolchain(t *testing.T, root, ws string) {
	t.Helper()
	wharfOnce.Do(func() {
		wharfBin = filepath.Join(t.TempDir(), "wharf")
		cmd := exec.Command("go", "build", "-trimpath", "-o", wharfBin, "./tools/cmd/wharf")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			wharfErr = fmt.Errorf("go build wharf: %v\n%s", err, out)
		}
		// t.TempDir is removed with the first test: keep the binary in the cache instead.
		if wharfErr == nil {
			keep := filepath.Join(cacheDir(), "e2e-wharf")
			wharfErr = os.Rename(wharfBin, keep)
			wharfBin = keep
		}
	})
	if wharfErr != nil {
		t.Fatal(wharfErr)
	}
	b, err := os.ReadFile(wharfBin)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(ws, "wharf_toolchain")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wharf"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	writer(t, dir)("BUILD.bazel", `load("@rules_wharf//toolchain:toolchain.bzl", "wharf_toolchain")

wharf_toolchain(
    name = "prebuilt",
    wharf = "wharf",
)

toolchain(
    name = "wharf_toolchain",
    toolchain = ":prebuilt",
    toolchain_type = "@rules_wharf//toolchain:type",
)
`)
}

// exampleModule copies the module in root/rel (a checked-in example a document shows) to a
// fixed directory of the cache, so that its output base is reused between runs, and makes
// it build here: its MODULE.bazel keeps everything but its module() and rules_wharf lines,
// which consumerModule's (local_path_override to root, offline Go SDK) replace, and
// registers a prebuilt wharf (prebuiltToolchain). Symlinks stay symlinks, to the same target.
func exampleModule(t *testing.T, root, rel string) string {
	t.Helper()
	src := filepath.Join(root, rel)
	name := filepath.Base(rel)
	ws := filepath.Join(cacheDir(), "e2e-"+name)
	os.RemoveAll(ws)
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	write := writer(t, ws)
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		r, _ := filepath.Rel(src, p)
		if d.Type()&os.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, filepath.Join(ws, r))
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if r == "MODULE.bazel" {
			var keep []string
			skip := false
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "module(") || strings.HasPrefix(line, `bazel_dep(name = "rules_wharf"`) || strings.HasPrefix(line, `"""`) {
					continue
				}
				// A module's own override of rules_wharf: consumerModule's replaces it.
				if strings.HasPrefix(line, "local_path_override(") {
					skip = true
				}
				if skip {
					skip = !strings.HasPrefix(line, ")")
					continue
				}
				keep = append(keep, line)
			}
			b = []byte(consumerModule(name, root) + strings.Join(keep, "\n") + "\nregister_toolchains(\"//wharf_toolchain\")\n")
		}
		write(r, string(b))
		if info, _ := d.Info(); info.Mode()&0o111 != 0 {
			os.Chmod(filepath.Join(ws, r), 0o755)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	write(".bazelrc", "common --lockfile_mode=off\n")
	prebuiltToolchain(t, root, ws)
	return ws
}

// The rules_oci example of docs/migrating.md builds, and the tars pkg_tar made are the
// image's layers as they are: the compressed one byte for byte, the plain one compressed.
func TestMigratingFromRulesOci(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	ws := exampleModule(t, root, "examples/migrating/from_rules_oci")
	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	run(t, ws, env, bazel, "build", "--output_groups=+layout", "//:image", "//:load", "//:push", "//:app_tar", "//:config_tar")

	bin := filepath.Join(ws, "bazel-bin")
	var manifest struct {
		Layers []struct {
			MediaType, Digest string
		}
	}
	readJSON(t, filepath.Join(bin, "image.manifest.json"), &manifest)
	var config struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		Config struct{ Entrypoint, Env []string }
	}
	readJSON(t, filepath.Join(bin, "image.config.json"), &config)
	if len(manifest.Layers) != 2 || len(config.RootFS.DiffIDs) != 2 {
		t.Fatalf("want the base's layer and the app layer, got %+v", manifest.Layers)
	}
	app := sha256File(t, filepath.Join(bin, "app_tar.tar.gz"))
	if got := manifest.Layers[1]; got.Digest != app || got.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
		t.Errorf("app layer %+v, want pkg_tar's app_tar.tar.gz as it is (%s)", got, app)
	}
	if got, want := config.RootFS.DiffIDs[0], sha256File(t, filepath.Join(bin, "config_tar.tar")); got != want {
		t.Errorf("base layer diffID %s, want the sha256 of pkg_tar's config_tar.tar, %s", got, want)
	}
	if strings.Join(config.Config.Entrypoint, " ") != "/opt/app/hello.sh" || !strings.Contains(strings.Join(config.Config.Env, " "), "APP_CONFIG=/etc/app/app.conf") {
		t.Errorf("config %+v", config.Config)
	}
	idx, err := layout.ImageIndexFromPath(filepath.Join(bin, "image"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("validate layout: %v", err)
	}
	t.Logf("from rules_oci: app layer %s is pkg_tar's file", app)
}

// The rules_apko example of docs/migrating.md: the apko.yaml and apko.lock.json a
// rules_apko user has (the lock written by apko itself) pass :lock_test and build, one
// image per platform.
//
// Then Renovate's apko manager (docs/apk-lock.md, "Renovate"): it bumps a version pin in
// apko.yaml and runs `apko lock <path of apko.yaml>` in the repository's root (here the
// module's, where the configuration is). Before the lock is refreshed, :lock_test fails with
// the command to rerun; the lock apko writes passes it and builds.
func TestMigratingFromRulesApko(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	apko := tool(t, "apko")
	ws := exampleModule(t, root, "examples/migrating/from_rules_apko")
	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	run(t, ws, env, bazel, "test", "//:lock_test")
	run(t, ws, env, bazel, "build", "--output_groups=+layout", "//:image", "//:multiarch", "//:load")
	bin := filepath.Join(ws, "bazel-bin")
	var config struct {
		Config struct {
			User string
			Env  []string
		}
	}
	readJSON(t, filepath.Join(bin, "image.config.json"), &config)
	if config.Config.User != "10001" || !strings.Contains(strings.Join(config.Config.Env, " "), "GREETING_STYLE=migrated") {
		t.Errorf("config from apko.yaml: %+v", config.Config)
	}
	var index struct {
		Manifests []struct{ Platform struct{ Architecture string } }
	}
	readJSON(t, filepath.Join(bin, "multiarch.index.json"), &index)
	if len(index.Manifests) != 2 {
		t.Errorf("index: %+v, want amd64 and arm64", index.Manifests)
	}
	idx, err := layout.ImageIndexFromPath(filepath.Join(bin, "image"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("validate layout: %v", err)
	}

	// Renovate pins wharf-greeting; the lock is not refreshed yet.
	cfgPath := filepath.Join(ws, "apko.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	pinned := strings.Replace(string(cfg), "    - wharf-greeting\n", "    - wharf-greeting=0.3.0-r2\n", 1)
	if pinned == string(cfg) {
		t.Fatal("apko.yaml has no wharf-greeting line to pin")
	}
	writer(t, ws)("apko.yaml", pinned)
	// lock_test fails for a configuration changed after its lock.
	runFails(t, ws, env, []string{
		"apko.lock.json is stale for apko.yaml:",
		"apko.yaml changed since the lock was written",
		"regenerate it with: bazel run //:lock",
	}, bazel, "test", "//:lock_test", "--test_output=errors")

	// What Renovate runs: in the repository's root, the configuration's path as argument.
	renovate := exec.Command(apko, "lock", "apko.yaml", "--cache-dir", filepath.Join(t.TempDir(), "cache"))
	renovate.Dir = ws
	if out, err := renovate.CombinedOutput(); err != nil {
		t.Fatalf("apko lock apko.yaml: %v\n%s", err, out)
	}
	run(t, ws, env, bazel, "test", "//:lock_test")
	run(t, ws, env, bazel, "build", "//:image")
}
