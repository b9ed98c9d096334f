package verbs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/registrytest"
)

// shallowLoad is an image whose bottom layer is a shallow base's: its blob is in the
// layout directory for the full tarball, and in a registry for the plan.
type shallowLoad struct {
	dir, layout, list string
	args              []string // docker-tar's flags: config, manifest, descriptor, --extern, --layer, --tag
	base              layer.Metadata
	blob              []byte
}

func newShallowLoad(t *testing.T) *shallowLoad {
	t.Helper()
	s := &shallowLoad{dir: t.TempDir()}
	_, args := dockerTarInputs(t, s.dir)
	// The first --layer becomes the base's: a layout directory and its layers.json.
	blobPath, metaPath, _ := strings.Cut(args[7], "=")
	s.blob, _ = os.ReadFile(blobPath)
	b, _ := os.ReadFile(metaPath)
	json.Unmarshal(b, &s.base)
	s.layout = filepath.Join(s.dir, "base")
	os.MkdirAll(filepath.Join(s.layout, "blobs", "sha256"), 0o755)
	os.WriteFile(filepath.Join(s.layout, "blobs", "sha256", strings.TrimPrefix(s.base.Digest, "sha256:")), s.blob, 0o644)
	s.list = filepath.Join(s.dir, "base.layers.json")
	b, _ = json.Marshal([]layer.Metadata{s.base})
	os.WriteFile(s.list, b, 0o644)
	s.args = append(append(args[:6:6], "--extern", s.list+"="+s.layout), args[8:]...)
	s.args = append(s.args, "--tag", "app:1", "--tag", "registry.example/team/app:2")
	return s
}

// shallow removes the base's blob from the layout, as oci.pull leaves it.
func (s *shallowLoad) shallow(t *testing.T) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(s.layout, "blobs")); err != nil {
		t.Fatal(err)
	}
}

// serve puts the base's blob in a registry repository and returns it.
func (s *shallowLoad) serve(t *testing.T) (*registrytest.Registry, string) {
	t.Helper()
	reg := registrytest.New(t)
	repo := reg.Host + "/wharf/base"
	r, _ := name.NewRepository(repo)
	if err := remote.WriteLayer(r, static.NewLayer(s.blob, types.DockerLayer)); err != nil {
		t.Fatal(err)
	}
	return reg, repo
}

// plan writes docker-tar's --plan with the base from origin, its other blobs' runfiles
// paths relative to s.dir, and changes to s.dir, as the run script runs in its runfiles.
func (s *shallowLoad) plan(t *testing.T, origin string) string {
	t.Helper()
	plan := filepath.Join(s.dir, "load.plan.json")
	args := append(append([]string{}, s.args...), "--plan", plan, "--image", "//app:image",
		"--origin", s.list+"="+origin, "--runfile", s.dir+"=app")
	if err := dockerTarVerb(args); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(s.dir, "runfiles"), 0o755)
	os.Symlink(s.dir, filepath.Join(s.dir, "runfiles", "app"))
	t.Chdir(filepath.Join(s.dir, "runfiles"))
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	return plan
}

// TestLoadTarIsDockerTarBytes: the archive load-tar streams, the base's layer from the
// registry it was pulled from and the image's own from runfiles, is byte for byte the
// tarball docker-tar writes when the build has every blob.
func TestLoadTarIsDockerTarBytes(t *testing.T) {
	s := newShallowLoad(t)
	full := filepath.Join(s.dir, "full.tar")
	if err := dockerTarVerb(append(append([]string{}, s.args...), "--out", full)); err != nil {
		t.Fatal(err)
	}
	s.shallow(t)
	_, repo := s.serve(t)
	plan := s.plan(t, repo)
	streamed := filepath.Join(s.dir, "streamed.tar")
	var log bytes.Buffer
	if err := loadTarVerb([]string{"--plan", plan, "--no-bazelrc", "--out", streamed}, &log); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(full)
	got, _ := os.ReadFile(streamed)
	if !bytes.Equal(got, want) {
		t.Fatalf("load-tar wrote %d bytes, not docker-tar's %d", len(got), len(want))
	}
	if !strings.Contains(log.String(), "1 blobs from the build") || !strings.Contains(log.String(), "1 base layers from the registry") {
		t.Errorf("summary: %q", log.String())
	}
	t.Logf("%d bytes alike; %s", len(got), log.String())
	// Into a command's standard input: the same bytes.
	piped := filepath.Join(s.dir, "piped.tar")
	if err := loadTarVerb([]string{"--plan", plan, "--no-bazelrc", "--", "sh", "-c", "cat > " + piped}, &log); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(piped); !bytes.Equal(got, want) {
		t.Fatalf("the command read %d bytes, not docker-tar's %d", len(got), len(want))
	}
}

// TestLoadTarFailures: each way the run-time archive can fail says what failed, naming the
// image, the layer and the registry, and loads nothing.
func TestLoadTarFailures(t *testing.T) {
	s := newShallowLoad(t)
	s.shallow(t)
	reg, repo := s.serve(t)
	wrong := wrongBytesRegistry(t, s.base.Digest)
	plan := s.plan(t, repo)
	run := func(args ...string) error {
		return loadTarVerb(append([]string{"--plan", plan, "--no-bazelrc"}, args...), &bytes.Buffer{})
	}
	out := filepath.Join(s.dir, "out.tar")
	check := func(what string, err error, want ...string) {
		t.Helper()
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: got %v, want %q", what, err, w)
			}
		}
		if err != nil {
			t.Logf("%s: %v", what, err)
		}
	}
	layerOf := "image //app:image: base layer " + s.base.Digest + fmt.Sprintf(" (%d bytes) from registry ", s.base.Size)

	// The registry refuses the credentials of the Docker config.
	reg.RequireAuth("ci", "right")
	os.WriteFile(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json"),
		[]byte(`{"auths": {"`+reg.Host+`": {"auth": "`+base64.StdEncoding.EncodeToString([]byte("ci:wrong"))+`"}}}`), 0o600)
	check("refused", run("--out", out), layerOf+repo, "registry "+reg.Host+" refused access (401")
	// The command fails mid-stream: its output is shown.
	reg.RequireAuth("", "")
	check("command fails", run("--", "sh", "-c", "head -c 100 >/dev/null; echo 'Error: payload does not match' >&2; exit 125"),
		"`sh -c head -c 100", "failed (exit status 125) after", "bytes of the archive were sent", "Error: payload does not match")
	check("no command", run("--", filepath.Join(s.dir, "no-such-cli"), "load"), "no-such-cli load`: ")
	check("docker-tar without an output", dockerTarVerb(s.args), "give one of --out (the tarball) and --plan (its description)")
	check("usage", run(), "usage: wharf load-tar --plan PLAN (--out FILE | -- COMMAND ARGS...)")

	// Wrong bytes from the registry: nothing reaches the command past the layers.
	plan = s.plan(t, wrong)
	got := filepath.Join(s.dir, "got.tar")
	check("wrong bytes", run("--", "sh", "-c", "cat > "+got),
		layerOf+wrong, "checksum", "nothing was loaded", "before the archive's index.json and manifest.json")
	if b, _ := os.ReadFile(got); bytes.Contains(b, []byte("index.json")) || bytes.Contains(b, []byte("manifest.json")) {
		t.Errorf("the command was sent the archive's index or manifest after a wrong blob")
	}
	// Unreachable: a port nothing listens on.
	plan = s.plan(t, "127.0.0.1:1/wharf/base")
	check("unreachable", run("--out", out), layerOf+"127.0.0.1:1/wharf/base", "connection refused")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed load-tar left %s: %v", out, err)
	}
}

// wrongBytesRegistry answers every blob request with other bytes; returns its repository.
func wrongBytesRegistry(t *testing.T, digest string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") {
			w.Write(bytes.Repeat([]byte("x"), 1024))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://") + "/wharf/base"
}
