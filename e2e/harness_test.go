//go:build e2e

package e2e

// The harness every e2e test uses: where the checkout and the tools are, running programs,
// starting servers (registry, bazel-remote, an APK repository), reading files and images.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"gopkg.in/yaml.v3"
)

// ---- the checkout and the tools

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func cacheDir() string {
	if c := os.Getenv("WHARF_CACHE"); c != "" {
		return c
	}
	return filepath.Join(os.Getenv("HOME"), ".cache", "rules_wharf")
}

// tool finds a required program: on PATH or in the cache's bin/.
func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join(cacheDir(), "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	t.Fatalf("required tool %s not found (run e2e/install_tools.sh)", name)
	return ""
}

// ---- running programs

// command is name with args in dir, with env added to this process's environment.
func command(dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	return cmd
}

// run runs a command that must succeed and returns its stdout.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	stdout, _ := runSplit(t, dir, env, name, args...)
	return stdout
}

// runSplit runs a command like run, returning stdout and stderr apart.
func runSplit(t *testing.T, dir string, env []string, name string, args ...string) (string, string) {
	t.Helper()
	cmd := command(dir, env, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr (tail):\n%s", name, strings.Join(args, " "), err, stdout.String(), tail(stderr.String(), 4000))
	}
	t.Logf("%s %s (%.1fs)", filepath.Base(name), strings.Join(args, " "), time.Since(start).Seconds())
	return stdout.String(), stderr.String()
}

// runFails runs a command that must fail, with each of wants in its output (stdout and
// stderr), and returns that output.
func runFails(t *testing.T, dir string, env, wants []string, name string, args ...string) string {
	t.Helper()
	b, err := command(dir, env, name, args...).CombinedOutput()
	out := string(b)
	what := filepath.Base(name) + " " + strings.Join(args, " ")
	if err == nil {
		t.Fatalf("%s succeeded; want an error saying %q:\n%s", what, wants, tail(out, 3000))
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, tail(out, 3000))
		}
	}
	return out
}

// bazelOutput runs bazel and returns its stderr and whether it succeeded.
func bazelOutput(t *testing.T, dir string, env []string, bazel string, args ...string) (string, bool) {
	t.Helper()
	cmd := command(dir, env, bazel, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return stderr.String(), err == nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// ---- servers

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer starts cmd, a server that listens on addr, stops it when the test ends, and
// waits until it accepts connections; it returns addr.
func startServer(t *testing.T, cmd *exec.Cmd, addr string) string {
	t.Helper()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not start on %s:\n%s", filepath.Base(cmd.Path), addr, logs.String())
	return ""
}

func startRegistry(t *testing.T) string {
	t.Helper()
	return startRegistryConfig(t, "")
}

// startRegistryConfig starts a registry whose configuration has extra (YAML lines) too.
func startRegistryConfig(t *testing.T, extra string) string {
	t.Helper()
	bin := tool(t, "docker-registry")
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf("version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: %s}\n", filepath.Join(dir, "data"), addr) + extra
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return startServer(t, exec.Command(bin, "serve", cfgPath), addr)
}

// startBazelRemote starts bazel-remote (built by e2e/rbe/provision.sh, which
// e2e/install_tools.sh runs) on free ports with empty storage; it returns the gRPC address.
func startBazelRemote(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(cacheDir(), "rbe", "bin", "bazel-remote")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("bazel-remote: %v (e2e/install_tools.sh builds it)", err)
	}
	grpcAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	return startServer(t, exec.Command(bin, "--dir", t.TempDir(), "--max_size", "5", "--grpc_address", grpcAddr, "--http_address", httpAddr), grpcAddr)
}

// rangeServer serves dir over http, as a CDN would (range requests), and counts ranged and
// whole-file requests.
func rangeServer(dir string) (srv *httptest.Server, ranged, whole *atomic.Int64) {
	ranged, whole = new(atomic.Int64), new(atomic.Int64)
	files := http.FileServer(http.Dir(dir))
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			ranged.Add(1)
		} else {
			whole.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	return srv, ranged, whole
}

// ---- images

// runImage unpacks an image from an OCI layout reference (DIR:REF) with umoci and runs it
// with runc, returning what it printed and the unpacked rootfs.
func runImage(t *testing.T, ref string) (string, string) {
	t.Helper()
	return runImageArgs(t, ref, nil)
}

// runImageArgs is runImage with the process's arguments replaced by args (nil: the image's).
func runImageArgs(t *testing.T, ref string, args []string) (string, string) {
	t.Helper()
	umoci, runc := tool(t, "umoci"), tool(t, "runc")
	bundle := filepath.Join(t.TempDir(), "bundle")
	run(t, "/", nil, umoci, "unpack", "--image", ref, bundle)
	cfgPath := filepath.Join(bundle, "config.json")
	var spec map[string]any
	readJSON(t, cfgPath, &spec)
	spec["process"].(map[string]any)["terminal"] = false
	if args != nil {
		spec["process"].(map[string]any)["args"] = args
	}
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, bundle, nil, runc, "run", "--bundle", bundle, fmt.Sprintf("wharf-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()))
	return out, filepath.Join(bundle, "rootfs")
}

// checkSkopeo reads a built layout with skopeo: `inspect` (for an index, `inspect --raw`,
// whose bytes must hash to the digest) and `copy` to a dir: transport, whose manifest.json
// must keep the built digest.
func checkSkopeo(t *testing.T, dir, ref, digest string, index bool) {
	t.Helper()
	skopeo := tool(t, "skopeo")
	src := "oci:" + dir + ":" + ref
	if index {
		raw := run(t, "/", nil, skopeo, "inspect", "--raw", src)
		if got := sha256Hex(raw); got != digest {
			t.Errorf("skopeo inspect --raw %s: bytes hash to %s, built %s", src, got, digest)
		}
	} else {
		var info struct{ Digest, Architecture, Os string }
		if err := json.Unmarshal([]byte(run(t, "/", nil, skopeo, "inspect", src)), &info); err != nil {
			t.Fatal(err)
		}
		if info.Digest != digest || info.Os != "linux" {
			t.Errorf("skopeo inspect %s: %+v, built %s", src, info, digest)
		}
	}
	out := filepath.Join(t.TempDir(), "skopeo-dir")
	args := []string{"--insecure-policy", "copy"}
	if index {
		args = append(args, "--all")
	}
	run(t, "/", nil, skopeo, append(args, src, "dir:"+out)...)
	if got := sha256File(t, filepath.Join(out, "manifest.json")); got != digest {
		t.Errorf("skopeo copy %s dir:: manifest.json hashes to %s, built %s", src, got, digest)
	}
}

// remoteManifest reads an image's manifest from the registry with crane.
func remoteManifest(t *testing.T, crane, ref string) *v1.Manifest {
	t.Helper()
	m, err := v1.ParseManifest(strings.NewReader(run(t, "/", nil, crane, "manifest", ref)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ---- files

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	return sha256Hex(readFile(t, p))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readJSON(t *testing.T, p string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(readFile(t, p)), v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(readFile(t, path)), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readSPDX reads an SPDX JSON document.
func readSPDX(t *testing.T, path string) *spdx.Document {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := spdxjson.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// writer returns a function that writes a file below dir, making its folders.
func writer(t *testing.T, dir string) func(name, content string) {
	return func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
