//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// loadFacts reads what an oci_load tarball's facts file says: config, manifest, platform.
func loadFacts(t *testing.T, path string) map[string]string {
	t.Helper()
	facts := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, path)), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k != "tag" {
			facts[k] = v
		}
	}
	return facts
}

// TestLoadIntoPodman builds oci_load targets, runs their run scripts (as `bazel run` would,
// but on this host, where podman is), checks the tags and digests podman reports against
// the build's, and runs the loaded image by the tag it was given.
func TestLoadIntoPodman(t *testing.T) {
	root := repoRoot(t)
	podman := tool(t, "podman")
	run(t, root, nil, filepath.Join(root, "tools", "bazel"), "build", "//examples/hello_image:load",
		"//oci/private/tests:load_test_image_load", "//oci/private/tests:load_test_index_load")
	global := podmanStore(t)
	bin := func(p string) string { return filepath.Join(root, "bazel-bin", p) }
	loads := []struct {
		target, facts string
		args, tags    []string
	}{
		{"examples/hello_image/load.sh", "examples/hello_image/load.load.txt", nil, []string{"docker.io/rules-wharf/hello:latest"}},
		{"oci/private/tests/load_test_image_load.sh", "oci/private/tests/load_test_image_load.load.txt", nil,
			[]string{"docker.io/wharf-test/load:a", "docker.io/wharf-test/load:b", "registry.example:5000/team/load:c"}},
		// Another platform's image of an index, chosen at run time.
		{"oci/private/tests/load_test_index_load.sh", "oci/private/tests/load_test_index_load_linux_arm64_v8.load.txt", []string{"--platform", "linux/arm64"},
			[]string{"docker.io/wharf-test/index:1"}},
	}
	for _, l := range loads {
		facts := loadFacts(t, bin(l.facts))
		out := run(t, "/", nil, bin(l.target), append(append([]string{}, global...), l.args...)...)
		want := "loaded " + facts["platform"] + " into podman as " + strings.Join(l.tags, " ")
		if !strings.Contains(out, want) || !strings.Contains(out, "manifest "+facts["manifest"]) {
			t.Errorf("%s printed %q; want %q and the manifest %s", l.target, out, want, facts["manifest"])
		}
		for _, tag := range l.tags {
			got := run(t, "/", nil, podman, append(append([]string{}, global...), "image", "inspect", "--format", "{{.Digest}} {{.ID}}", tag)...)
			if want := facts["manifest"] + " " + strings.TrimPrefix(facts["config"], "sha256:"); strings.TrimSpace(got) != want {
				t.Errorf("podman image inspect %s: %q, want the build's manifest and config: %q", tag, got, want)
			}
		}
	}
	args := append(append([]string{}, global...), "--runtime=runc", "run", "--pull=never", "--rm", "--network=none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "rules-wharf/hello:latest")
	got := run(t, "/", nil, podman, args...)
	for _, w := range wantOutput {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("podman run output lacks %q; got:\n%s", w, got)
		}
	}
}

// startContainerd runs containerd as root with its own root, state and socket under dir,
// stopped when the test ends; it returns the socket's path.
func startContainerd(t *testing.T, dir string) string {
	t.Helper()
	sock := filepath.Join(dir, "c.sock")
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte("version = 2\nroot = \""+filepath.Join(dir, "root")+"\"\nstate = \""+filepath.Join(dir, "state")+
		"\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = \""+sock+"\"\n[ttrpc]\n  address = \""+sock+".ttrpc\"\n"), 0o644)
	cmd := exec.Command(tool(t, "containerd"), "--config", cfg)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ctr := tool(t, "ctr")
	for i := 0; i < 100; i++ {
		if exec.Command(ctr, "-a", sock, "version").Run() == nil {
			return sock
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("containerd did not start:\n%s", logs.String())
	return ""
}

// TestLoadIntoContainerd runs an oci_load (cli = "ctr") of an index into a real containerd,
// the host's platform and then another chosen with --platform; `ctr images ls` must show
// each tag on the build's manifest digest.
func TestLoadIntoContainerd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containerd runs as root")
	}
	root := repoRoot(t)
	run(t, root, nil, filepath.Join(root, "tools", "bazel"), "build", "//oci/private/tests:load_test_ctr_load")
	dir, err := os.MkdirTemp("", "wharf-ctr") // short: a socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := startContainerd(t, dir)
	global := []string{"-a", sock, "-n", "wharf-e2e"}
	// The native snapshotter unpacks without overlay mounts.
	env := []string{"CONTAINERD_SNAPSHOTTER=native", "PATH=" + filepath.Dir(tool(t, "ctr")) + ":" + os.Getenv("PATH")}
	bin := filepath.Join(root, "bazel-bin", "oci", "private", "tests")
	host := map[string]string{"amd64": "linux_amd64", "arm64": "linux_arm64_v8"}[runtime.GOARCH]
	for _, c := range []struct{ platform, facts string }{{"", "load_test_ctr_load_" + host + ".load.txt"}, {"linux/arm64", "load_test_ctr_load_linux_arm64_v8.load.txt"}} {
		args := append([]string{}, global...)
		if c.platform != "" {
			args = append(args, "--platform", c.platform)
		}
		facts := loadFacts(t, filepath.Join(bin, c.facts))
		out := run(t, "/", env, filepath.Join(bin, "load_test_ctr_load.sh"), args...)
		if want := "loaded " + facts["platform"] + " into ctr as docker.io/wharf-test/ctr:1 docker.io/wharf-test/ctr:2"; !strings.Contains(out, want) {
			t.Errorf("printed %q; want %q", out, want)
		}
		list := run(t, "/", nil, tool(t, "ctr"), append(append([]string{}, global...), "images", "ls")...)
		on := map[string]string{} // REF TYPE DIGEST ...
		for _, line := range strings.Split(list, "\n") {
			if f := strings.Fields(line); len(f) > 2 {
				on[f[0]] = f[2]
			}
		}
		for _, tag := range []string{"docker.io/wharf-test/ctr:1", "docker.io/wharf-test/ctr:2"} {
			if on[tag] != facts["manifest"] {
				t.Errorf("ctr images ls: %s on %q, want the build's manifest %s:\n%s", tag, on[tag], facts["manifest"], list)
			}
		}
	}
}

// TestLoadStampedTags builds a load whose tag holds {BUILD_EMBED_LABEL} with --stamp: the
// tarball is tagged with the expanded value (read as a docker archive by that tag).
func TestLoadStampedTags(t *testing.T) {
	root := repoRoot(t)
	run(t, root, nil, filepath.Join(root, "tools", "bazel"), "build", "--stamp", "--embed_label=1.2.3", "//oci/private/tests:load_test_stamped_load")
	bin := filepath.Join(root, "bazel-bin", "oci", "private", "tests")
	if facts := readFile(t, filepath.Join(bin, "load_test_stamped_load.load.txt")); !strings.Contains(facts, "\ntag docker.io/wharf-test/load:v1.2.3\n") {
		t.Errorf("facts:\n%s", facts)
	}
	tag, err := name.NewTag("wharf-test/load:v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tarball.ImageFromPath(filepath.Join(bin, "load_test_stamped_load.tar"), &tag); err != nil {
		t.Errorf("the tarball has no image tagged %s: %v", tag, err)
	}
}

// podmanStore is podman's global flags for a private store: vfs (no mounts left behind),
// never a registry.
func podmanStore(t *testing.T) []string {
	store := t.TempDir()
	return []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
		"--storage-driver=vfs", "--cgroup-manager=cgroupfs", "--events-backend=file"}
}
