//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Renovate's apko manager refreshes a lock by running `apko lock <path of apko.yaml>` in the
// repository's root (after editing the configuration's version pins). A lock written that
// way must pass :lock_test and build; a configuration edited without its lock must fail
// :lock_test with the command that fixes it. docs/apk-lock.md, "Renovate".
//
// The configuration is at the repository's root with its key beside it: apko reads
// relative paths from its working directory, rules_wharf from the configuration's
// directory, and only there are they the same (elsewhere: https:// URLs, as Wolfi's and
// Alpine's are; http:// keys, the offline stand-in, are refused by translate_lock).
func TestRenovateApkoLock(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	apko := tool(t, "apko")
	srv, _, _ := rangeServer(filepath.Join(root, "examples", "apk_repo"))
	defer srv.Close()

	ws := filepath.Join(cacheDir(), "e2e-renovate")
	os.RemoveAll(ws)
	write := writer(t, ws)
	write("MODULE.bazel", consumerModule("renovate", root)+`
apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "base", lock = "//:apko.lock.json")
use_repo(apk, "base")

register_toolchains("//wharf_toolchain")
`)
	write(".bazelrc", "common --lockfile_mode=off\n")
	prebuiltToolchain(t, root, ws)
	config := func(greeting string) string {
		return `contents:
  keyring:
    - wharf-example.rsa.pub
  repositories:
    - ` + srv.URL + `
  packages:
    - wharf-greeting=` + greeting + `
    - wharf-motd
archs:
  - x86_64
`
	}
	key, err := os.ReadFile(filepath.Join(root, "examples", "apk_repo", "wharf-example.rsa.pub"))
	if err != nil {
		t.Fatal(err)
	}
	write("wharf-example.rsa.pub", string(key))
	write("apko.yaml", config("0.3.0-r2"))
	write("BUILD.bazel", `load("@rules_wharf//apk:defs.bzl", "apk_lock")
load("@rules_wharf//oci:defs.bzl", "oci_image")

exports_files(["apko.lock.json"])

apk_lock(
    name = "lock",
    config = "apko.yaml",
    lock = "apko.lock.json",
)

oci_image(
    name = "image",
    apks = "@base",
)
`)

	// What Renovate runs: in the repository root, the configuration's path as argument.
	cmd := exec.Command(apko, "lock", "apko.yaml", "--cache-dir", filepath.Join(t.TempDir(), "cache"))
	cmd.Dir = ws
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apko lock apko.yaml: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(ws, "apko.lock.json")); err != nil {
		t.Fatalf("apko lock did not write the lock beside the configuration: %v", err)
	}

	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	run(t, ws, env, bazel, "test", "//:lock_test")
	run(t, ws, env, bazel, "build", "//:image")

	// A version bump in apko.yaml without its lock (Renovate commits the configuration
	// even when `apko lock` fails, with an artifact error): the test says what to run.
	write("apko.yaml", config("0.3.0-r3"))
	cmd = exec.Command(bazel, "test", "//:lock_test", "--test_output=errors")
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("lock_test passed for a configuration the lock does not fit:\n%s", out)
	}
	for _, want := range []string{
		"apko.lock.json is stale for apko.yaml",
		`wharf-greeting=0.3.0-r3`,
		"regenerate it with: bazel run //:lock",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lock_test output lacks %q:\n%s", want, tail(string(out), 3000))
		}
	}
}
