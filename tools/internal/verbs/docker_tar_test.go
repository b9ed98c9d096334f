package verbs

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// dockerTarInputs writes a random image's config, manifest, descriptor (linux/arm64) and
// layers as an image action leaves them; returns the docker-tar flags naming them.
func dockerTarInputs(t *testing.T, dir string) (v1.Image, []string) {
	t.Helper()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf.OS, cf.Architecture = "linux", "arm64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	cfg, _ := img.RawConfigFile()
	man, _ := img.RawManifest()
	desc, _ := json.Marshal(v1.Descriptor{MediaType: "application/vnd.docker.distribution.manifest.v2+json", Size: int64(len(man)),
		Digest: mustDigest(t, img), Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}})
	os.WriteFile(p("config.json"), cfg, 0o644)
	os.WriteFile(p("manifest.json"), man, 0o644)
	os.WriteFile(p("descriptor.json"), desc, 0o644)
	args := []string{"--config", p("config.json"), "--manifest", p("manifest.json"), "--descriptor", p("descriptor.json")}
	ls, _ := img.Layers()
	for i, l := range ls {
		rc, _ := l.Compressed()
		blob, _ := io.ReadAll(rc)
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		meta, _ := json.Marshal(layer.Metadata{MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", Digest: d.String(), Size: int64(len(blob)), DiffID: diff.String()})
		os.WriteFile(p(fmt.Sprint("layer", i)), blob, 0o644)
		os.WriteFile(p(fmt.Sprint("layer", i, ".json")), meta, 0o644)
		args = append(args, "--layer", p(fmt.Sprint("layer", i))+"="+p(fmt.Sprint("layer", i, ".json")))
	}
	return img, args
}

func mustDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDockerTarIsDockerArchiveAndOCILayout: go-containerregistry reads the tarball as a
// docker archive under every tag (stamped ones expanded) and, unpacked, as a valid OCI
// layout whose one manifest is the build's, named for containerd and podman.
func TestDockerTarIsDockerArchiveAndOCILayout(t *testing.T) {
	dir := t.TempDir()
	img, args := dockerTarInputs(t, dir)
	status := filepath.Join(dir, "stable-status.txt")
	os.WriteFile(status, []byte("STABLE_GIT_COMMIT abc123\n"), 0o644)
	out, facts := filepath.Join(dir, "image.tar"), filepath.Join(dir, "facts.txt")
	args = append(args, "--tag", "app:1", "--tag", "registry.example/team/app:git-{STABLE_GIT_COMMIT}", "--tag", "app:1",
		"--status", status, "--out", out, "--facts", facts)
	if err := dockerTarVerb(args); err != nil {
		t.Fatal(err)
	}
	want := mustDigest(t, img)
	cfgWant, _ := img.ConfigName()
	for _, tag := range []string{"app:1", "registry.example/team/app:git-abc123"} {
		ref, _ := name.NewTag(tag)
		got, err := tarball.ImageFromPath(out, &ref)
		if err != nil {
			t.Fatalf("docker archive, tag %s: %v", tag, err)
		}
		if c, _ := got.ConfigName(); c != cfgWant {
			t.Errorf("tag %s: config %s, want %s", tag, c, cfgWant)
		}
	}
	idx, err := layout.ImageIndexFromPath(untar(t, out))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != want ||
		im.Manifests[0].Annotations["io.containerd.image.name"] != "docker.io/library/app:1" ||
		im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "1" {
		t.Errorf("index.json: %+v, want manifest %s named docker.io/library/app:1", im.Manifests, want)
	}
	b, _ := os.ReadFile(facts)
	wantFacts := fmt.Sprintf("config %s\nmanifest %s\nplatform linux/arm64\ntag docker.io/library/app:1\ntag registry.example/team/app:git-abc123\n", cfgWant, want)
	if string(b) != wantFacts {
		t.Errorf("facts:\n%s\nwant:\n%s", b, wantFacts)
	}
}

func untar(t *testing.T, path string) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		b, _ := io.ReadAll(tr)
		os.WriteFile(p, b, 0o644)
	}
}

// TestDockerTarUnstampedTags: without stamping a tag with a placeholder is not loaded and
// the facts name it, so the run script can refuse it; the bytes do not depend on the run.
func TestDockerTarUnstampedTags(t *testing.T) {
	dir := t.TempDir()
	_, args := dockerTarInputs(t, dir)
	var tars [2][]byte
	for i := range tars {
		out, facts := filepath.Join(dir, fmt.Sprint(i, ".tar")), filepath.Join(dir, fmt.Sprint(i, ".facts"))
		if err := dockerTarVerb(append(args, "--tag", "app:v{BUILD_EMBED_LABEL}", "--tag", "app:dev", "--out", out, "--facts", facts)); err != nil {
			t.Fatal(err)
		}
		tars[i], _ = os.ReadFile(out)
		b, _ := os.ReadFile(facts)
		if !strings.Contains(string(b), "\ntag docker.io/library/app:dev\nunstamped app:v{BUILD_EMBED_LABEL}\n") {
			t.Errorf("facts:\n%s", b)
		}
	}
	if string(tars[0]) != string(tars[1]) {
		t.Error("two runs wrote different tarballs")
	}
}

// TestDockerTarRejects shows each message and that no output is left.
func TestDockerTarRejects(t *testing.T) {
	dir := t.TempDir()
	_, args := dockerTarInputs(t, dir)
	status := filepath.Join(dir, "stable-status.txt")
	os.WriteFile(status, []byte("STABLE_GIT_COMMIT abc123\n"), 0o644)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":3,"digest":"sha256:`+strings.Repeat("0", 64)+`"}`), 0o644)
	for name, tc := range map[string]struct {
		extra []string
		want  string
	}{
		"bad tag":        {[]string{"--tag", "App:Latest"}, `tag "App:Latest" is not repository:tag`},
		"missing key":    {[]string{"--tag", "app:{BUILD_EMBED_LABEL}", "--status", status}, `tag "app:{BUILD_EMBED_LABEL}": the workspace status has no key BUILD_EMBED_LABEL (keys: STABLE_GIT_COMMIT)`},
		"bad descriptor": {[]string{"--descriptor", other, "--tag", "app:1"}, "but its descriptor " + other + " says sha256:0000"},
	} {
		out := filepath.Join(dir, "out.tar")
		err := dockerTarVerb(append(append(append([]string{}, args...), tc.extra...), "--out", out, "--facts", out+".facts"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
			continue
		}
		t.Logf("%s: %v", name, err)
		for _, f := range []string{out, out + ".facts"} {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("%s: %s left behind", name, f)
			}
		}
	}
}
