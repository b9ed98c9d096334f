//go:build e2e

package locker

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest/apkooracle"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
)

// TestApkoLockRepositoryLines: for a configuration whose repositories are http(s) URLs
// (served here), the /etc/apk/repositories that apko v1.2.39 writes into its image is what
// rules_wharf derives from apko's lock of that configuration (lockfile.RepositoryLine, the
// twin of apk/private/lock.bzl's repository_line): URLs with their scheme, runtime-only
// repositories included, build-only ones not, sorted.
func TestApkoLockRepositoryLines(t *testing.T) {
	apko := apkooracle.Binary(t)
	key, err := apktest.NewKey("repo.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(p string, b []byte) { writeFile(t, p, b) }
	srvDir := filepath.Join(dir, "srv")
	for _, r := range []struct{ path, pkg string }{{"wolfi/os", "base"}, {"extra/main", "tool"}, {"build/only", "builder"}} {
		b, err := apktest.Build(apktest.Package{Name: r.pkg, Version: "1.0-r0", Arch: "x86_64", Files: []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/" + r.pkg, Content: r.pkg}}}, key)
		if err != nil {
			t.Fatal(err)
		}
		write(filepath.Join(srvDir, r.path, "x86_64", r.pkg+"-1.0-r0.apk"), b.APK)
		idx, err := apktest.Index([]*apktest.Built{b}, key, r.path)
		if err != nil {
			t.Fatal(err)
		}
		write(filepath.Join(srvDir, r.path, "x86_64", "APKINDEX.tar.gz"), idx)
	}
	write(filepath.Join(dir, "repo.rsa.pub"), key.PublicPEM())
	srv := httptest.NewServer(http.FileServer(http.Dir(srvDir)))
	defer srv.Close()
	cfg := "contents:\n  keyring: [./repo.rsa.pub]\n  repositories:\n    - " + srv.URL + "/wolfi/os\n    - " + srv.URL + "/extra/main\n" +
		"  build_repositories:\n    - " + srv.URL + "/build/only\n  runtime_repositories:\n    - https://packages.example.com/runtime\n" +
		"  packages: [base, tool]\narchs: [x86_64]\n"
	write(filepath.Join(dir, "apko.yaml"), []byte(cfg))
	apkoRun := func(args ...string) {
		t.Helper()
		cmd := exec.Command(apko, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apko %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	apkoRun("lock", "apko.yaml", "--output", "apko.lock.json", "--cache-dir", filepath.Join(dir, "cache"))
	apkoRun("build", "--sbom=false", "--arch", "x86_64", "--cache-dir", filepath.Join(dir, "cache"), "--lockfile", "apko.lock.json", "apko.yaml", "repos:test", "image.tar")

	b, err := os.ReadFile(filepath.Join(dir, "apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := lockfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var ours []string
	for _, r := range append(l.Contents.Repositories, l.Contents.RuntimeRepositories...) {
		if line := lockfile.RepositoryLine(r); !seen[line] {
			seen[line] = true
			ours = append(ours, line)
		}
	}
	sort.Strings(ours)
	want := strings.Join(ours, "\n") + "\n"
	got := imageFile(t, filepath.Join(dir, "image.tar"), filepath.Join(dir, "layout"), "etc/apk/repositories")
	if got != want {
		t.Fatalf("apko wrote /etc/apk/repositories:\n%s\nrules_wharf derives from apko's lock:\n%s\nlock repositories: %+v %+v", got, want, l.Contents.Repositories, l.Contents.RuntimeRepositories)
	}
	if !strings.Contains(got, srv.URL+"/wolfi/os\n") || strings.Contains(got, "build/only") {
		t.Fatalf("the case lost its point: %q", got)
	}
	t.Logf("apko and rules_wharf: %q", got)
}

// imageFile reads path from the single-layer image in apko's tarball (an OCI layout).
func imageFile(t *testing.T, tarball, dir, path string) string {
	t.Helper()
	apkooracle.Untar(t, tarball, dir)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(rc)
		if err != nil {
			t.Fatal(err)
		}
		lr := tar.NewReader(zr)
		for {
			h, err := lr.Next()
			if err != nil {
				break
			}
			if strings.TrimPrefix(h.Name, "./") == path {
				b, _ := io.ReadAll(lr)
				rc.Close()
				return string(b)
			}
		}
		rc.Close()
	}
	t.Fatalf("apko's image has no %s", path)
	return ""
}
