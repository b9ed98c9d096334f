//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// consumerModule starts the MODULE.bazel of a module named name that uses rules_wharf from
// root as the README says (local_path_override instead of the registry), offline; the
// caller's own lines follow. A checkout has no prebuilt tool: the module builds it from
// source as docs/install.md says, with rules_wharf_tools.
func consumerModule(name, root string) string {
	return fmt.Sprintf(`module(name = %q)

bazel_dep(name = "rules_wharf", version = "0.0.0")
local_path_override(module_name = "rules_wharf", path = %q)

bazel_dep(name = "rules_wharf_tools", version = "0.0.0")
local_path_override(module_name = "rules_wharf_tools", path = %q)

bazel_dep(name = "rules_go", version = "0.60.0")
bazel_dep(name = "gazelle", version = "0.43.0")

go_sdk = use_extension("@rules_go//go:extensions.bzl", "go_sdk")
go_sdk.host()

# Offline only: no protobuf toolchain here.
go_deps = use_extension("@gazelle//:extensions.bzl", "go_deps")
go_deps.gazelle_default_attributes(directives = ["gazelle:proto disable"])
`, name, root, filepath.Join(root, "tools"))
}

// TestConsumerModule uses rules_wharf the way the README tells users to: from another
// module (local_path_override instead of the registry). Its locks fetch the example
// packages over http:// (ranged, checksummed member downloads) and file:// (whole files);
// both images must build and be identical.
func TestConsumerModule(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	repo := filepath.Join(root, "examples", "apk_repo")

	srv, ranged, whole := rangeServer(repo)
	defer srv.Close()

	// A fixed directory, so the consumer's output base is reused between runs; one per
	// WHARF_E2E_BAZEL_CONFIG, so switching flags does not discard the other's.
	config := os.Getenv("WHARF_E2E_BAZEL_CONFIG")
	ws := filepath.Join(cacheDir(), strings.TrimSuffix("e2e-consumer-"+config, "-"))
	os.RemoveAll(ws)
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	lockBytes, err := os.ReadFile(filepath.Join(root, "examples", "hello_image", "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(prefix string) []byte {
		var lock map[string]any
		json.Unmarshal(lockBytes, &lock)
		contents := lock["contents"].(map[string]any)
		fix := func(u string) string { return prefix + strings.TrimPrefix(u, "../apk_repo/") }
		// Keys have no checksum in a lock, and Bazel downloads plain http:// only with one.
		for _, k := range contents["keyring"].([]any) {
			k.(map[string]any)["url"] = "file://" + repo + "/" + strings.TrimPrefix(k.(map[string]any)["url"].(string), "../apk_repo/")
		}
		for _, p := range contents["packages"].([]any) {
			p.(map[string]any)["url"] = fix(p.(map[string]any)["url"].(string))
		}
		b, _ := json.MarshalIndent(lock, "", "  ")
		return b
	}
	write := writer(t, ws)
	write("http.lock.json", string(rewrite(srv.URL+"/")))
	write("file.lock.json", string(rewrite("file://"+repo+"/")))
	write("MODULE.bazel", consumerModule("consumer", root)+`
apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "http_base", lock = "//:http.lock.json")
apk.translate_lock(name = "file_base", lock = "//:file.lock.json")
use_repo(apk, "file_base", "http_base")
`)
	write("BUILD.bazel", `load("@rules_wharf//oci:defs.bzl", "oci_image")

oci_image(name = "http_image", apks = "@http_base", entrypoint = ["/bin/true"])

oci_image(name = "file_image", apks = "@file_base", entrypoint = ["/bin/true"])
`)
	write(".bazelrc", "common --lockfile_mode=off\n"+consumerConfig(root, config))

	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	// A repository cache of its own: the shared one already holds these packages by checksum
	// (earlier runs, the examples), and a cache hit would make the ranged-download check vacuous.
	run(t, ws, env, bazel, "build", "--repository_cache="+filepath.Join(ws, "repository-cache"), "//:http_image", "//:file_image")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(ws, "bazel-bin", name+".digest"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	httpDigest, fileDigest := read("http_image"), read("file_image")
	if httpDigest != fileDigest {
		t.Fatalf("http:// lock gave %s, file:// lock %s", httpDigest, fileDigest)
	}
	// Per package: signature, control and data members by range, nothing whole.
	if ranged.Load() < 9 || whole.Load() != 0 {
		t.Fatalf("server saw %d ranged and %d whole-file requests; want >= 9 ranged (3 members x 3 packages) and none whole", ranged.Load(), whole.Load())
	}
	t.Logf("consumer module: http:// and file:// locks give %s (%d ranged requests)", httpDigest, ranged.Load())
}

// consumerConfig is the .bazelrc lines that run a consumer under one of the checkout's
// .bazelrc configs (WHARF_E2E_BAZEL_CONFIG=bazel8: Bazel 8 and 9 semantics); none without.
func consumerConfig(root, config string) string {
	if config == "" {
		return ""
	}
	return fmt.Sprintf("import %s\ncommon --config=%s\n", filepath.Join(root, ".bazelrc"), config)
}
