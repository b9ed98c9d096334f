package structure

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// What each oci_structure_test built to fail prints: the path, package or field, and the
// rule it broke.
var wantFailure = map[string][]string{
	"non_root_fails":          {`config field User is "", which runs as root (uid 0): rule non_root`},
	"no_setuid_fails":         {"/usr/bin/su is urwxr-xr-x (setuid/setgid): rule no_setuid"},
	"no_world_writable_fails": {"/etc/motd is -rw-rw-rw- (world-writable): rule no_world_writable"},
	"no_shell_fails":          {"/bin/sh is in the image (-rw-r--r--): rule forbidden_paths"},
	"base_digest_fails":       {"is not in allowed_base_digests [sha256:0000000000000000000000000000000000000000000000000000000000000000]: rule allowed_base_digests"},
	"base_layers_fail":        {"the image's bottom layers are not those of base image sha256:", "is not in allowed_base_digests"},
	"denied_package_fails":    {"=== FAIL: Policy: package allow/deny lists", "package wharf-motd@", "is denied: rule denied_packages"},
	"allowed_packages_fails":  {"package wharf-motd@", "is not in allowed_packages: rule allowed_packages"},
	"denied_license_fails":    {"has license MIT (MIT): rule denied_licenses"},
	"allowed_licenses_fails":  {"has license MIT (MIT), not in allowed_licenses: rule allowed_licenses"},
	"corpus_files":            {"=== FAIL: File Existence Test: bash missing", "File /bin/bash should exist but does not", "Expected: -rw-r--r--, Actual: -rw-r-----"},
}

// Args: the launchers of the tests in wantFailure (root-relative paths). They run here
// from this test's runfiles, which hold theirs.
func TestEachBrokenImageFailsWithItsMessage(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") == "" || len(os.Args) < 2 {
		t.Skip("needs the tests built by Bazel: bazel test //tests/structure:structure_test")
	}
	root := filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"))
	seen := map[string]bool{}
	for _, launcher := range os.Args[1:] {
		if !strings.HasSuffix(launcher, ".sh") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(launcher), ".sh")
		want, ok := wantFailure[name]
		if !ok {
			t.Errorf("%s: no expected message", name)
			continue
		}
		seen[name] = true
		cmd := exec.Command(filepath.Join(root, launcher))
		cmd.Env = append(os.Environ(), "RUNFILES_DIR="+os.Getenv("TEST_SRCDIR"))
		out, err := cmd.CombinedOutput()
		if _, failed := err.(*exec.ExitError); !failed {
			t.Errorf("%s: %v, want the test to fail\n%s", name, err, out)
			continue
		}
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: output lacks %q:\n%s", name, w, out)
			}
		}
		if !strings.Contains(string(out), "structure test failed") {
			t.Errorf("%s: output lacks the summary:\n%s", name, out)
		}
	}
	for name := range wantFailure {
		if !seen[name] {
			t.Errorf("%s: not run (not among the test's args)", name)
		}
	}
}
