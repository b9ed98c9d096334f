// Package apkooracle finds apko v0.30.34, the oracle of the equivalence tests: its module's
// source and testdata (through the Go module cache) and its binary.
package apkooracle

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Module is the apko version every equivalence test compares with.
const Module = "chainguard.dev/apko@v0.30.34"

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

// Binary returns apko v0.30.34: in the rules_wharf cache's bin/ ($WHARF_CACHE, default
// ~/.cache/rules_wharf), on PATH, or built into that bin/ from the module (as bench/run.sh
// does; about two minutes, once).
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
	for _, c := range [][]string{{"go", "mod", "init", "apkobuild"}, {"go", "get", Module}, {"go", "build", "-o", bin, "chainguard.dev/apko"}} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	return bin
}
