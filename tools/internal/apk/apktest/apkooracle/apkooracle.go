// Package apkooracle finds apko v1.2.39, the oracle of the equivalence tests: its module's
// source and testdata (through the Go module cache) and its binary.
package apkooracle

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Module is the apko version every equivalence test compares with.
const Module = "chainguard.dev/apko@v1.2.39"

// replace is the go.mod replacement apko v1.2.39 builds with: the go-erofs pseudo-version it
// requires does not build, v0.3.1 does (as e2e/install_tools.sh builds it).
const replace = "github.com/erofs/go-erofs=github.com/erofs/go-erofs@v0.3.1"

// ModuleDir returns the module's directory in the Go module cache, downloading it if needed.
func ModuleDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", Module).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", Module, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s: %v %s", Module, err, out)
	}
	return mod.Dir
}

// Binary returns apko v1.2.39: in the rules_wharf cache's bin/ ($WHARF_CACHE, default
// ~/.cache/rules_wharf), on PATH, or built into that bin/ from the module (as
// e2e/install_tools.sh does; a few minutes, once).
func Binary(t testing.TB) string {
	t.Helper()
	cache := os.Getenv("WHARF_CACHE")
	if cache == "" {
		cache = filepath.Join(os.Getenv("HOME"), ".cache", "rules_wharf")
	}
	bin := filepath.Join(cache, "bin", "apko")
	cands := []string{bin}
	if p, err := exec.LookPath("apko"); err == nil {
		cands = append(cands, p)
	}
	version := strings.TrimPrefix(Module, "chainguard.dev/apko@")
	for _, p := range cands {
		if out, err := exec.Command(p, "version").CombinedOutput(); err == nil && strings.Contains(string(out), version) {
			return p
		}
	}
	t.Logf("building apko %s into %s", version, bin)
	mod := t.TempDir()
	for _, c := range [][]string{{"go", "mod", "init", "apkobuild"}, {"go", "mod", "edit", "-replace=" + replace}, {"go", "get", Module}, {"go", "build", "-o", bin, "chainguard.dev/apko"}} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	return bin
}

// Untar unpacks apko's image tarball into dir as an OCI layout: its "sha256:<hex>" and
// "<hex>.tar.gz" members go to blobs/sha256/<hex>.
func Untar(t testing.TB, tarball, dir string) {
	t.Helper()
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		name := h.Name
		if hex, ok := strings.CutPrefix(name, "sha256:"); ok {
			name = filepath.Join("blobs", "sha256", hex)
		} else if hex, ok := strings.CutSuffix(name, ".tar.gz"); ok {
			name = filepath.Join("blobs", "sha256", hex)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
