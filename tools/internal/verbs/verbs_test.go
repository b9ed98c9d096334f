package verbs

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

type fixture struct {
	dir, apk, key string
	b             *apktest.Built
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	key, err := apktest.NewKey("k.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	b, err := apktest.Build(apktest.Package{
		Name: "pkg", Version: "1.0-r0", Arch: "x86_64",
		Files: []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/pkg.conf", Content: "x=1\n"}},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := &fixture{dir: dir, apk: filepath.Join(dir, "pkg.apk"), key: filepath.Join(dir, "k.rsa.pub"), b: b}
	os.WriteFile(f.apk, b.APK, 0o644)
	os.WriteFile(f.key, key.PublicPEM(), 0o644)
	return f
}

func (f *fixture) extractArgs(out string) []string {
	return []string{
		"--name", "pkg", "--version", "1.0-r0", "--arch", "x86_64", "--part", f.apk,
		"--control-checksum", apktest.SRI("sha1", f.b.ControlSHA1),
		"--data-checksum", apktest.SRI("sha256", f.b.DataSHA256),
		"--blob", filepath.Join(out, "blob"), "--metadata", filepath.Join(out, "meta.json"), "--facts", filepath.Join(out, "facts.json"),
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestExtractVerifyImageLayout(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "out")
	os.Mkdir(out, 0o755)
	if err := apkExtract(f.extractArgs(out)); err != nil {
		t.Fatal(err)
	}
	if err := apkVerify([]string{"--name", "pkg", "--version", "1.0-r0", "--arch", "x86_64", "--part", f.apk,
		"--key", f.key, "--out", filepath.Join(out, "verified.json")}); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(f.dir, "app")
	os.WriteFile(app, []byte("#!/bin/sh\n"), 0o755)
	if err := layerVerb([]string{"--file", "/app/run=" + app, "--symlink", "/bin/run=/app/run", "--blob", filepath.Join(out, "app.tgz"), "--metadata", filepath.Join(out, "app.json")}); err != nil {
		t.Fatal(err)
	}
	const spec = `{"os":"linux","architecture":"amd64","entrypoint":["/app/run"],"env":{"B":"2","A":"1"},"exposed_ports":["8080"]}`
	img := func(p string) string { return filepath.Join(out, p) }
	if err := imageVerb([]string{"--spec-json", spec, "--layer", img("meta.json"), "--layer", img("app.json"),
		"--config", img("config.json"), "--manifest", img("manifest.json"), "--digest", img("digest"), "--descriptor", img("desc.json")}); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Config struct {
			Env          []string
			ExposedPorts map[string]struct{}
		}
	}
	b, _ := os.ReadFile(img("config.json"))
	json.Unmarshal(b, &cfg)
	if strings.Join(cfg.Config.Env, ",") != "A=1,B=2" || len(cfg.Config.ExposedPorts) != 1 {
		t.Fatalf("config %s", b)
	}
	lay := filepath.Join(f.dir, "layout")
	if err := layoutVerb([]string{"--descriptor", img("desc.json"), "--blob", img("manifest.json"), "--blob", img("config.json"),
		"--layer", img("blob") + "=" + img("meta.json"), "--layer", img("app.tgz") + "=" + img("app.json"), "--ref-name", "latest", "--out", lay}); err != nil {
		t.Fatal(err)
	}
	checkPushByTag(t, img, checkLayout(t, lay, img))
}

// checkLayout: the layout validates and its index names the image's digest as "latest";
// it returns the digest.
func checkLayout(t *testing.T, lay string, img func(string) string) string {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(lay)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("layout does not validate: %v", err)
	}
	digest, _ := os.ReadFile(img("digest"))
	im, _ := idx.IndexManifest()
	if im.Manifests[0].Digest.String() != string(digest) || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "latest" {
		t.Fatalf("index %+v, digest %s", im.Manifests, digest)
	}
	return string(digest)
}

// checkPushByTag pushes the image to an in-process registry and reads it back by tag, then
// pushes to the registry closed.
func checkPushByTag(t *testing.T, img func(string) string, digest string) {
	t.Helper()
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tags := filepath.Join(t.TempDir(), "tags.txt")
	if err := os.WriteFile(tags, []byte("v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := writePlan(t, "", "--label=//test:push", "--descriptor="+img("desc.json"), "--json="+img("manifest.json"), "--json="+img("config.json"),
		"--layer="+img("blob")+"="+img("meta.json"), "--layer="+img("app.tgz")+"="+img("app.json"),
		"--repository="+host+"/test/img", "--tags-file="+tags)
	if err := pushVerb([]string{"--no-bazelrc", "--plan", plan}, io.Discard); err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/test/img:v1")
	pushed, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := pushed.Digest(); d.String() != digest {
		t.Fatalf("registry has %s, built %s", d, digest)
	}
	if err := validate.Image(pushed); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	err = pushVerb([]string{"--no-bazelrc", "--plan", plan, "--repository", host + "/test/img"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "pushing //test:push ("+host+"/test/img@") {
		t.Fatalf("push to a closed registry: %v", err)
	}
}

func TestExtractFailuresLeaveNoOutput(t *testing.T) {
	f := newFixture(t)
	cases := map[string]func(args []string) []string{
		"tampered data": func(a []string) []string {
			bad := append([]byte(nil), f.b.APK...)
			bad[len(bad)-20] ^= 0xff
			p := filepath.Join(f.dir, "bad-data.apk")
			os.WriteFile(p, bad, 0o644)
			return replace(a, f.apk, p)
		},
		"truncated": func(a []string) []string {
			p := filepath.Join(f.dir, "short.apk")
			os.WriteFile(p, f.b.APK[:len(f.b.APK)-100], 0o644)
			return replace(a, f.apk, p)
		},
		"wrong lock data checksum": func(a []string) []string {
			return replace(a, apktest.SRI("sha256", f.b.DataSHA256), apktest.SRI("sha256", make([]byte, 32)))
		},
		"wrong lock control checksum": func(a []string) []string {
			return replace(a, apktest.SRI("sha1", f.b.ControlSHA1), apktest.SRI("sha1", make([]byte, 20)))
		},
		"wrong name": func(a []string) []string { return replace(a, "pkg", "other") },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			os.Mkdir(out, 0o755)
			err := apkExtract(mod(f.extractArgs(out)))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "package ") {
				t.Errorf("error does not name the package: %v", err)
			}
			if left := entries(t, out); len(left) != 0 {
				t.Errorf("left behind %v after %v", left, err)
			}
		})
	}
}

func TestVerifyWrongKeyLeavesNoOutput(t *testing.T) {
	f := newFixture(t)
	other, _ := apktest.NewKey("k.rsa.pub")
	k2 := filepath.Join(f.dir, "other", "k.rsa.pub")
	os.MkdirAll(filepath.Dir(k2), 0o755)
	os.WriteFile(k2, other.PublicPEM(), 0o644)
	out := filepath.Join(t.TempDir(), "v.json")
	err := apkVerify([]string{"--name", "pkg", "--version", "1.0-r0", "--arch", "x86_64", "--part", f.apk, "--key", k2, "--out", out})
	if err == nil || !strings.Contains(err.Error(), "pkg-1.0-r0") || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("output left behind")
	}
}

func replace(args []string, old, new string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == old {
			out[i] = new
		}
	}
	return out
}

func TestIndexLayoutPush(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	app := p("app")
	os.WriteFile(app, []byte("x"), 0o644)
	if err := layerVerb([]string{"--file", "/app=" + app, "--blob", p("l.tgz"), "--metadata", p("l.json")}); err != nil {
		t.Fatal(err)
	}
	var descs []string
	for _, arch := range []string{"amd64", "arm64"} {
		spec := `{"os":"linux","architecture":"` + arch + `"}`
		if err := imageVerb([]string{"--spec-json", spec, "--layer", p("l.json"), "--config", p(arch + ".config"), "--manifest", p(arch + ".manifest"),
			"--digest", p(arch + ".digest"), "--descriptor", p(arch + ".desc")}); err != nil {
			t.Fatal(err)
		}
		descs = append(descs, p(arch+".desc"))
	}
	if err := indexVerb([]string{"--manifest", descs[0], "--manifest", descs[0], "--index", p("i"), "--descriptor", p("id"), "--digest", p("idg")}); err == nil || !strings.Contains(err.Error(), "two images for platform linux/amd64") {
		t.Fatalf("duplicate platform: %v", err)
	}
	if err := indexVerb([]string{"--manifest", descs[0], "--manifest", descs[1], "--annotation", "org.opencontainers.image.title=t",
		"--index", p("index.json"), "--descriptor", p("index.desc"), "--digest", p("index.digest")}); err != nil {
		t.Fatal(err)
	}
	lay := p("layout")
	if err := layoutVerb([]string{"--descriptor", p("index.desc"), "--blob", p("index.json"),
		"--blob", p("amd64.manifest"), "--blob", p("amd64.config"), "--blob", p("arm64.manifest"), "--blob", p("arm64.config"),
		"--layer", p("l.tgz") + "=" + p("l.json"), "--ref-name", "latest", "--out", lay}); err != nil {
		t.Fatal(err)
	}
	top, err := layout.ImageIndexFromPath(lay)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(top); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	plan := writePlan(t, "", "--label=//test:multi", "--descriptor="+p("index.desc"), "--json="+p("index.json"),
		"--json="+p("amd64.manifest"), "--json="+p("amd64.config"), "--json="+p("arm64.manifest"), "--json="+p("arm64.config"),
		"--layer="+p("l.tgz")+"="+p("l.json"))
	if err := pushVerb([]string{"--no-bazelrc", "--plan", plan, "--repository", host + "/multi", "--tag", "v1"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/multi:v1")
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(p("index.digest"))
	if d, _ := idx.Digest(); d.String() != string(want) {
		t.Fatalf("pushed index %s, built %s", d, want)
	}
	m, _ := idx.IndexManifest()
	if len(m.Manifests) != 2 || m.Manifests[1].Platform.Architecture != "arm64" || m.Annotations["org.opencontainers.image.title"] != "t" {
		t.Fatalf("index %+v", m)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatal(err)
	}
}

// TestExtractDataPartIsBlob covers http(s) locks: the data member arrives as a part of its
// own and is the layer blob itself, so apk-extract writes only metadata and facts, with the
// same digests as when it copies the blob, and refuses a data part that is not exactly the
// data member.
func TestExtractDataPartIsBlob(t *testing.T) {
	f := newFixture(t)
	copied := filepath.Join(f.dir, "copied")
	os.Mkdir(copied, 0o755)
	if err := apkExtract(f.extractArgs(copied)); err != nil {
		t.Fatal(err)
	}
	split := func(at int64) []string {
		head, data := filepath.Join(f.dir, "head.part"), filepath.Join(f.dir, "data.part")
		os.WriteFile(head, f.b.APK[:at], 0o644)
		os.WriteFile(data, f.b.APK[at:], 0o644)
		return []string{head, data}
	}
	args := func(parts []string, out string) []string {
		return []string{"--name", "pkg", "--version", "1.0-r0", "--arch", "x86_64", "--part", parts[0], "--part", parts[1],
			"--data-checksum", apktest.SRI("sha256", f.b.DataSHA256),
			"--metadata", filepath.Join(out, "meta.json"), "--facts", filepath.Join(out, "facts.json")}
	}
	out := filepath.Join(f.dir, "split")
	os.Mkdir(out, 0o755)
	parts := split(f.b.SigSize + f.b.ControlSize)
	if err := apkExtract(args(parts, out)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"meta.json", "facts.json"} {
		a, _ := os.ReadFile(filepath.Join(copied, n))
		b, _ := os.ReadFile(filepath.Join(out, n))
		if string(a) != string(b) {
			t.Errorf("%s differs between copied and in-place blob:\n%s\n%s", n, a, b)
		}
	}
	if got := entries(t, out); len(got) != 2 {
		t.Errorf("outputs %v, want only metadata and facts", got)
	}
	// A data part that starts before the data member: the digests would still cover the
	// right bytes, but the part itself would not be the blob.
	bad := filepath.Join(f.dir, "bad")
	os.Mkdir(bad, 0o755)
	err := apkExtract(args(split(f.b.SigSize+f.b.ControlSize-10), bad))
	if err == nil || !strings.Contains(err.Error(), "not exactly the data member") {
		t.Fatalf("misaligned data part: %v", err)
	}
	if left := entries(t, bad); len(left) != 0 {
		t.Errorf("left behind %v", left)
	}
}
