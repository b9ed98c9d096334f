//go:build e2e

package e2e

import (
	"archive/tar"
	"debug/elf"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestMultiArchIndex builds the example for amd64 and arm64 from one lock and checks that
// each platform's image carries that architecture's packages and binary, then pushes the
// index and reads it back with crane.
func TestMultiArchIndex(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	crane := tool(t, "crane")
	run(t, root, nil, bazel, "build", "--output_groups=+layout", "//examples/hello_image:multiarch")

	top, err := layout.ImageIndexFromPath(filepath.Join(root, "bazel-bin", "examples", "hello_image", "multiarch"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(top); err != nil {
		t.Fatalf("validate: %v", err)
	}
	tm, _ := top.IndexManifest()
	idx, err := top.ImageIndex(tm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 2 {
		t.Fatalf("index lists %d manifests", len(im.Manifests))
	}
	checkSkopeo(t, filepath.Join(root, "bazel-bin", "examples", "hello_image", "multiarch"), "latest", tm.Manifests[0].Digest.String(), true)

	want := lockDataDigests(t, root)
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	apkArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
	for _, m := range im.Manifests {
		arch := m.Platform.Architecture
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := img.ConfigFile()
		if cfg.Architecture != arch || cfg.OS != "linux" {
			t.Fatalf("%s: config says %s/%s", arch, cfg.OS, cfg.Architecture)
		}
		layers, _ := img.Layers()
		var digests []string
		for _, l := range layers {
			d, _ := l.Digest()
			digests = append(digests, d.String())
		}
		// Package layers first, in lock order, then the apk database, then the app.
		if got := strings.Join(digests[:len(want[apkArch[arch]])], " "); got != strings.Join(want[apkArch[arch]], " ") {
			t.Errorf("%s: package layers %s, want the lock's %s packages %v", arch, got, apkArch[arch], want[apkArch[arch]])
		}
		if got := elfMachine(t, layers[len(layers)-1], "usr/bin/hello"); got != machines[arch] {
			t.Errorf("%s: /usr/bin/hello is for %v", arch, got)
		}
	}

	addr := startRegistry(t)
	repo := addr + "/wharf/multi"
	out := run(t, root, nil, bazel, "run", "//examples/hello_image:push_multiarch", "--", "--repository", repo)
	digest := tm.Manifests[0].Digest.String()
	if got := strings.TrimSpace(out); got != repo+"@"+digest {
		t.Fatalf("push printed %q, want %s@%s", got, repo, digest)
	}
	if got := strings.TrimSpace(run(t, root, nil, crane, "digest", repo+":latest")); got != digest {
		t.Fatalf("registry has %s, built %s", got, digest)
	}
	run(t, root, nil, crane, "validate", "--remote", repo+":latest")
	if got := strings.TrimSpace(run(t, root, nil, crane, "digest", "--platform", "linux/arm64", repo+":latest")); got != im.Manifests[1].Digest.String() {
		t.Fatalf("arm64 digest %s, want %s", got, im.Manifests[1].Digest)
	}
}

// lockDataDigests: the data checksum of each package of examples/hello_image's lock as a
// layer digest, by architecture, in lock order.
func lockDataDigests(t *testing.T, root string) map[string][]string {
	t.Helper()
	var lock struct {
		Contents struct {
			Packages []struct {
				Name, Architecture string
				Data               struct{ Checksum string }
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(root, "examples", "hello_image", "apko.lock.json"))
	json.Unmarshal(b, &lock)
	want := map[string][]string{}
	for _, p := range lock.Contents.Packages {
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(p.Data.Checksum, "sha256-"))
		want[p.Architecture] = append(want[p.Architecture], "sha256:"+hex.EncodeToString(raw))
	}
	return want
}

func elfMachine(t *testing.T, l v1.Layer, name string) elf.Machine {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s not in layer", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != name {
			continue
		}
		tmp := filepath.Join(t.TempDir(), "bin")
		b, _ := io.ReadAll(tr)
		os.WriteFile(tmp, b, 0o644)
		f, err := elf.Open(tmp)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return f.Machine
	}
}

// TestZstdBuildSetting builds the example with zstd layers chosen on the command line.
func TestZstdBuildSetting(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	run(t, root, nil, bazel, "build", "--output_groups=+layout", "--@//oci/settings:compression=zstd", imageTarget)
	// Leave the gzip layout where the zstd one was, for the tests that read it.
	defer run(t, root, nil, bazel, "build", "--output_groups=+layout", imageTarget)
	idx, err := layout.ImageIndexFromPath(filepath.Join(root, layoutDir))
	if err != nil {
		t.Fatal(err)
	}
	// go-containerregistry's full validation inflates every layer as gzip: validate the
	// structure, then check each layer's digest and diff_id here.
	if err := validate.Index(idx, validate.Fast); err != nil {
		t.Fatalf("validate: %v", err)
	}
	im, _ := idx.IndexManifest()
	img, _ := idx.Image(im.Manifests[0].Digest)
	layers, _ := img.Layers()
	for i, l := range layers {
		digest, _ := l.Digest()
		diffID, _ := l.DiffID()
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := v1.SHA256(rc)
		rc.Close()
		if err != nil || got != digest {
			t.Fatalf("layer %d: blob hashes to %s, manifest says %s (%v)", i, got, digest, err)
		}
		rc, err = l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		got, _, err = v1.SHA256(rc)
		rc.Close()
		if err != nil || got != diffID {
			t.Fatalf("layer %d: tar hashes to %s, config says %s (%v)", i, got, diffID, err)
		}
	}
	mt, _ := layers[len(layers)-1].MediaType()
	if string(mt) != "application/vnd.oci.image.layer.v1.tar+zstd" {
		t.Fatalf("app layer is %s", mt)
	}
}
