//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// workspaceFile is a WORKSPACE as docs/workspace.md tells users to write it, plus what this
// offline machine needs: Bazel's WORKSPACE suffix declares rules_cc, rules_java,
// rules_proto and rules_python (and bazel_skylib) as downloads from GitHub, which toolchain
// resolution fetches; declared first, as Debian's copies, the suffix's `maybe` skips them.
const workspaceFile = `workspace(name = "ws_consumer")

local_repository(name = "rules_wharf", path = %q)

` + workspaceOffline + `
load("@rules_wharf//:repositories.bzl", "rules_wharf_dependencies")

rules_wharf_dependencies()

load("@rules_wharf//apk:repositories.bzl", "translate_lock")

translate_lock(name = "base", lock = "//:apko.lock.json")

load("@base//:repositories.bzl", base_repositories = "apk_repositories")

base_repositories()

register_toolchains("//wharf_toolchain")
`

// fileLock returns the example lock with its packages and key as file:// URLs into root.
// workspaceOffline declares, from Debian's copies, what Bazel's WORKSPACE suffix would
// download from GitHub: this machine has no GitHub.
const workspaceOffline = `
# ---- offline only: Debian's copies of what Bazel's WORKSPACE suffix would download
local_repository(name = "bazel_skylib", path = "/usr/share/bazel/tools/skylib")

local_repository(name = "rules_cc", path = "/usr/share/bazel/rules/cc")

local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")

local_repository(name = "rules_proto", path = "/usr/share/bazel/rules/proto")

local_repository(name = "rules_python", path = "/usr/share/bazel/rules/python")
# ---- end of offline only
`

// workspaceRC is a WORKSPACE consumer's .bazelrc: Debian's install base (its WORKSPACE
// suffix), run with --nosystem_rc (the system rc of this Bazel is for bzlmod) and
// --config=workspace.
const workspaceRC = `startup --install_base=/usr/share/bazel
startup --trust_install_base
common --lockfile_mode=off
common:workspace --enable_workspace --noenable_bzlmod
`

func fileLock(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "examples", "hello_image", "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock map[string]any
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	contents := lock["contents"].(map[string]any)
	fix := func(e any) {
		m := e.(map[string]any)
		m["url"] = "file://" + filepath.Join(root, "examples", "apk_repo", strings.TrimPrefix(m["url"].(string), "../apk_repo/"))
	}
	for _, k := range contents["keyring"].([]any) {
		fix(k)
	}
	for _, p := range contents["packages"].([]any) {
		fix(p)
	}
	out, _ := json.MarshalIndent(lock, "", "  ")
	return string(out)
}

// A WORKSPACE (not bzlmod) consumer: translate_lock and apk_repositories() declare the
// lock's repositories, a prebuilt wharf is the toolchain, and the image is the one the same
// directory builds as a bzlmod module.
func TestWorkspaceConsumer(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	ws := filepath.Join(cacheDir(), "e2e-workspace")
	os.RemoveAll(ws)
	write := writer(t, ws)

	// The prebuilt toolchain: this checkout's wharf, as a user would download it.
	prebuiltToolchain(t, root, ws)
	write("apko.lock.json", fileLock(t, root))
	write("WORKSPACE", strings.Replace(workspaceFile, "%q", `"`+root+`"`, 1))
	write("MODULE.bazel", consumerModule("ws_consumer", root)+`
apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "base", lock = "//:apko.lock.json")
use_repo(apk, "base")

register_toolchains("//wharf_toolchain")
`)
	write("BUILD.bazel", `load("@rules_wharf//oci:defs.bzl", "oci_image")

exports_files(["apko.lock.json"])

oci_image(
    name = "image",
    apks = "@base",
    entrypoint = ["/bin/true"],
)
`)
	// Offline only: the system bazelrc here is for bzlmod (--noenable_workspace, Java
	// toolchains by their bzlmod names), so WORKSPACE runs skip it (--nosystem_rc) and name
	// Debian's install base themselves.
	write(".bazelrc", workspaceRC)
	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	digest := func() string {
		b, err := os.ReadFile(filepath.Join(ws, "bazel-bin", "image.digest"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	run(t, ws, env, bazel, "--nosystem_rc", "build", "--config=workspace", "--output_groups=+layout", "//:image")
	wsDigest := digest()
	idx, err := layout.ImageIndexFromPath(filepath.Join(ws, "bazel-bin", "image"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("validate layout: %v", err)
	}
	// The hub names the lock's packages; the translate rule's macro declared each.
	q := run(t, ws, env, bazel, "--nosystem_rc", "query", "--config=workspace", "--output=label", "deps(@base//:x86_64, 1)")
	for _, pkg := range []string{"wharf-greeting", "wharf-baselayout", "wharf-motd"} {
		if !strings.Contains(q, "@apk_x86_64_"+pkg+"_") {
			t.Errorf("@base//:x86_64 does not depend on a repository of %s:\n%s", pkg, q)
		}
	}

	run(t, ws, env, bazel, "shutdown")
	run(t, ws, env, bazel, "build", "//:image")
	if got := digest(); got != wsDigest {
		t.Fatalf("WORKSPACE build gave %s, bzlmod build of the same lock %s", wsDigest, got)
	}
	t.Logf("WORKSPACE and bzlmod builds agree: %s", wsDigest)

	// This checkout is not a release: asking it for prebuilt binaries fails, saying why.
	write("WORKSPACE", strings.Replace(workspaceFile, "%q", `"`+root+`"`, 1)+`
load("@rules_wharf//:repositories.bzl", "rules_wharf_prebuilt_toolchains")

rules_wharf_prebuilt_toolchains()
`)
	run(t, ws, env, bazel, "shutdown")
	const want = "rules_wharf_prebuilt_toolchains: this rules_wharf is a checkout, not a release: " +
		"toolchain/private/versions.bzl lists no prebuilt binary. Use a release's source archive, " +
		"register a wharf_toolchain of your own binary, or rules_wharf_register_toolchains() to build wharf from source (docs/workspace.md)"
	runFails(t, ws, env, []string{want}, bazel, "--nosystem_rc", "build", "--config=workspace", "//:image")
	t.Logf("from a checkout, rules_wharf_prebuilt_toolchains says: %s", want)
}
