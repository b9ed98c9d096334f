//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestApkoImageRuns builds the example from examples/hello_image/apko.yaml (apko_image),
// runs it with runc and checks what the configuration asks for: the process runs as the
// configured user with its group from /etc/passwd, in the work-dir, with the environment
// and cmd; /etc/passwd and /etc/group hold the account; paths exist with their modes and
// owners.
func TestApkoImageRuns(t *testing.T) {
	root := repoRoot(t)
	run(t, root, nil, filepath.Join(root, "tools", "bazel"), "build", "--output_groups=+layout", "//examples/hello_image:apko_image")
	dir := filepath.Join(root, "bazel-bin", "examples", "hello_image", "apko_image")
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("validate layout: %v", err)
	}
	im, _ := idx.IndexManifest()
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	// Packages (3), apk database, accounts and paths, the Go program.
	if layers, _ := img.Layers(); len(layers) != 6 {
		t.Errorf("%d layers, want 6", len(layers))
	}
	if cfg.Config.User != "10001" || cfg.Config.StopSignal != "SIGTERM" ||
		cfg.Config.Labels["org.opencontainers.image.title"] != "rules_wharf hello (from apko.yaml)" {
		t.Errorf("config: %+v", cfg.Config)
	}

	got, rootfs := runImage(t, dir+":latest")
	for _, w := range []string{
		"uid=10001 gid=10001", // gid from /etc/passwd: the config says only "10001"
		"user=hello",
		"cwd=/var/lib/hello",
		"GREETING_STYLE=apko",
		`args=["from-apko-cmd"]`,
		"motd: Welcome to a rules_wharf image.", // 0400, owned by hello now
		"greeting: hello from an apk (x86_64)",
	} {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("output lacks %q; got:\n%s", w, got)
		}
	}

	checkApkoRootfs(t, rootfs)
}

// checkApkoRootfs: the accounts apko.yaml makes and the owners, modes and links of its paths.
func checkApkoRootfs(t *testing.T, rootfs string) {
	t.Helper()
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(rootfs, p))
		if err != nil {
			t.Error(err)
		}
		return string(b)
	}
	if p := read("etc/passwd"); p != "hello:x:10001:10001:Account created by apko:/var/lib/hello:/bin/sh\n" {
		t.Errorf("/etc/passwd: %q", p)
	}
	if g := read("etc/group"); g != "hello:x:10001:hello\n" {
		t.Errorf("/etc/group: %q", g)
	}
	for _, c := range []struct {
		path     string
		mode     os.FileMode
		uid, gid uint32
	}{
		{"var/lib/hello", os.ModeDir | 0o750, 10001, 10001},
		{"var/lib/hello/state", 0o640, 10001, 10001},
		{"etc/motd", 0o400, 10001, 10001},
		{"etc/passwd", 0o644, 0, 0},
		{"usr/share/wharf/greeting.txt", 0o644, 0, 0},
	} {
		fi, err := os.Lstat(filepath.Join(rootfs, c.path))
		if err != nil {
			t.Error(err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != c.mode || st.Uid != c.uid || st.Gid != c.gid {
			t.Errorf("/%s: %v %d:%d, want %v %d:%d", c.path, fi.Mode(), st.Uid, st.Gid, c.mode, c.uid, c.gid)
		}
	}
	if l, err := os.Readlink(filepath.Join(rootfs, "usr/share/wharf/hello.txt")); err != nil || l != "greeting.txt" {
		t.Errorf("symlink: %q %v", l, err)
	}
}

// TestApkoImageIndex builds apko_image for apko.yaml's two architectures: each image has its
// architecture's packages and its own accounts and paths layer, and the config from the file.
func TestApkoImageIndex(t *testing.T) {
	root := repoRoot(t)
	run(t, root, nil, filepath.Join(root, "tools", "bazel"), "build", "--output_groups=+layout", "//examples/hello_image:apko_multiarch")
	idx, err := layout.ImageIndexFromPath(filepath.Join(root, "bazel-bin", "examples", "hello_image", "apko_multiarch"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("validate: %v", err)
	}
	im, _ := idx.IndexManifest()
	inner, err := idx.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		inner = idx
	}
	m, _ := inner.IndexManifest()
	archs := map[string]bool{}
	for _, d := range m.Manifests {
		img, err := inner.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := img.ConfigFile()
		layers, _ := img.Layers()
		archs[cfg.Architecture] = true
		if cfg.Config.User != "10001" || cfg.Config.WorkingDir != "/var/lib/hello" || len(layers) != 6 {
			t.Errorf("%s: user %q, workdir %q, %d layers", cfg.Architecture, cfg.Config.User, cfg.Config.WorkingDir, len(layers))
		}
	}
	if !archs["amd64"] || !archs["arm64"] || len(archs) != 2 {
		t.Errorf("architectures %v", archs)
	}
}
