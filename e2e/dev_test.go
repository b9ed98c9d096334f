//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// boxSource is the static multi-call program the dev test's busybox and apk-tools install
// (tools/internal/apk/apktest/devrepo), as busybox-static is one binary for many commands:
// sh (`-c "a; b"`, or lines on stdin), echo, cat, ls, `apk info` (the installed database's
// packages) and app, the production image's entrypoint.
const boxSource = `package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() { os.Exit(applet(filepath.Base(os.Args[0]), os.Args[1:])) }

func applet(name string, args []string) int {
	switch name {
	case "busybox":
		if len(args) == 0 {
			fmt.Println("applets: sh echo cat ls apk app")
			return 0
		}
		return applet(args[0], args[1:])
	case "sh":
		if len(args) == 2 && args[0] == "-c" {
			return script(args[1])
		}
		st, in := 0, bufio.NewScanner(os.Stdin)
		for in.Scan() {
			st = script(in.Text())
		}
		return st
	case "echo":
		fmt.Println(strings.Join(args, " "))
	case "cat":
		for _, a := range args {
			b, err := os.ReadFile(a)
			if err != nil {
				fmt.Fprintln(os.Stderr, "cat:", err)
				return 1
			}
			os.Stdout.Write(b)
		}
	case "ls":
		for _, a := range args {
			es, err := os.ReadDir(a)
			if err != nil {
				fmt.Fprintln(os.Stderr, "ls:", err)
				return 1
			}
			for _, e := range es {
				fmt.Println(e.Name())
			}
		}
	case "apk":
		if len(args) != 1 || args[0] != "info" {
			fmt.Fprintln(os.Stderr, "usage: apk info")
			return 1
		}
		db, err := os.ReadFile("/usr/lib/apk/db/installed")
		if err != nil {
			fmt.Fprintln(os.Stderr, "apk:", err)
			return 1
		}
		for _, l := range strings.Split(string(db), "\n") {
			if p, ok := strings.CutPrefix(l, "P:"); ok {
				fmt.Println(p)
			}
		}
	case "app":
		fmt.Println("app: the production entrypoint")
	default:
		fmt.Fprintf(os.Stderr, "%s: applet not found\n", name)
		return 127
	}
	return 0
}

func script(s string) int {
	st := 0
	for _, line := range strings.Split(s, ";") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		path, err := exec.LookPath(f[0])
		if err != nil {
			fmt.Fprintf(os.Stderr, "sh: %s: not found\n", f[0])
			st = 127
			continue
		}
		c := exec.Command(path, f[1:]...)
		c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
		st = 0
		if err := c.Run(); err != nil {
			st = 1
		}
	}
	return st
}
`

// goBuild builds a Go program from source as a static linux/amd64 binary.
func goBuild(t *testing.T, source string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(source), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module box\n\ngo 1.22\n"), 0o644)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", "box", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the box: %v\n%s", err, out)
	}
	return filepath.Join(dir, "box")
}

// TestDevVariant is the path from a production image to its -dev twin, as a user takes it
// in a module of their own: `bazel run //:lock` writes both locks from one apko.yaml
// against a served, signed repository (apk_lock(dev_lock = ...), default dev packages:
// apk-tools, busybox, cmd:sh), `//:lock_test` checks both, `bazel run //:lock -- search`
// says which package provides a command and which lock has it; apko_image(dev_apks = ...)
// builds :image_dev (and :image_dev.load's tarball), whose shell runs under runc while the
// production image has none. Then what a user reads: a changed dev package list makes the
// dev lock stale, and a search for what nothing provides fails.
func TestDevVariant(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	ws := filepath.Join(cacheDir(), "e2e-dev-variant")
	os.RemoveAll(ws)
	srvDir := filepath.Join(ws, "srv")
	run(t, root, nil, "go", "run", "./tools/internal/apk/apktest/devrepo", "-dir", srvDir, "-box", goBuild(t, boxSource))
	srv, _, _ := rangeServer(srvDir)
	defer srv.Close()

	write := writer(t, ws)
	write(".bazelrc", "common --lockfile_mode=off\n")
	write("apko.yaml", fmt.Sprintf(`contents:
  keyring: [file://%s/keys/dev.rsa.pub]
  repositories: [%s]
  packages: [app]
archs: [x86_64]
entrypoint:
  command: /usr/bin/app
`, srvDir, srv.URL))
	lockBuild := `load("@rules_wharf//apk:defs.bzl", "apk_lock")
load("@rules_wharf//oci:defs.bzl", "apko_image")

apk_lock(name = "lock", config = "apko.yaml", dev_lock = "apko.dev.lock.json")
`
	module := consumerModule("dev", root)
	// First the locks, as a user starts: nothing translates them yet.
	write("MODULE.bazel", module)
	write("BUILD.bazel", lockBuild)
	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	run(t, ws, env, bazel, "run", "//:lock")
	for _, l := range []string{"apko.lock.json", "apko.dev.lock.json"} {
		if _, err := os.Stat(filepath.Join(ws, l)); err != nil {
			t.Fatalf("bazel run //:lock did not write %s: %v", l, err)
		}
	}
	module += `apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "base", lock = "//:apko.lock.json")
apk.translate_lock(name = "base_dev", lock = "//:apko.dev.lock.json")
use_repo(apk, "base", "base_dev")
`
	write("MODULE.bazel", module)
	build := lockBuild + `apko_image(name = "image", config = "apko.yaml", apks = "@base", dev_apks = "@base_dev")
`
	write("BUILD.bazel", build)
	run(t, ws, env, bazel, "test", "//:lock_test")

	t.Run("search", func(t *testing.T) { checkDevSearch(t, ws, env, bazel, srv.URL) })

	run(t, ws, env, bazel, "build", "--output_groups=+layout", "//:image", "//:image_dev", "//:image_dev.load")
	checkDevImages(t, ws)

	t.Run("stale dev lock", func(t *testing.T) {
		write("BUILD.bazel", strings.Replace(build, `dev_lock = "apko.dev.lock.json")`, `dev_lock = "apko.dev.lock.json", dev_packages = ["busybox"])`, 1))
		defer write("BUILD.bazel", build)
		out := runFails(t, ws, env, []string{"apko.dev.lock.json is stale for apko.yaml", "apko.yaml or the appended packages (busybox) changed since the lock was written",
			"regenerate it with: bazel run //:lock"}, bazel, "test", "--test_output=errors", "//:lock_test")
		if strings.Contains(out, "apko.lock.json is stale") {
			t.Errorf("the production lock was reported stale:\n%s", tail(out, 2000))
		}
	})
}

// checkDevSearch: `bazel run //:lock -- search` says where each match is locked (in neither
// lock, or only in the -dev variant's), and a query that matches nothing names the
// repository.
func checkDevSearch(t *testing.T, ws string, env []string, bazel, srvURL string) {
	t.Helper()
	_, stderr := runSplit(t, ws, env, bazel, "run", "//:lock", "--", "search", "cmd:sh", "/usr/bin/cu*", "apk-tools")
	for _, want := range [][]string{
		{"cmd:sh", "busybox", "1.37.0-r0", "x86_64", srvURL, "not in apko.lock.json; in apko.dev.lock.json"},
		{"/usr/bin/cu* (as cmd:cu*)", "curl", "8.11.1-r0", "x86_64", srvURL, "not in apko.lock.json; not in apko.dev.lock.json"},
		{"apk-tools", "apk-tools", "2.14.6-r0", "x86_64", srvURL, "not in apko.lock.json; in apko.dev.lock.json"},
	} {
		if !hasFields(stderr, want) {
			t.Errorf("search output lacks %q:\n%s", want, stderr)
		}
	}
	runFails(t, ws, env, []string{"wharf: lock: search: no package in " + srvURL + " (x86_64) matches cmd:nosuch"}, bazel, "run", "//:lock", "--", "search", "cmd:nosuch")
}

// checkDevImages: the production image runs its entrypoint and has no shell or apk; the
// -dev image's shell runs with apk-tools, busybox and the production packages.
func checkDevImages(t *testing.T, ws string) {
	t.Helper()
	got, rootfs := runImage(t, filepath.Join(ws, "bazel-bin", "image")+":latest")
	if !strings.Contains(got, "app: the production entrypoint\n") {
		t.Errorf("production image printed %q", got)
	}
	for _, p := range []string{"bin/sh", "sbin/apk"} {
		if _, err := os.Lstat(filepath.Join(rootfs, p)); err == nil {
			t.Errorf("the production image has /%s", p)
		}
	}
	got, _ = runImageArgs(t, filepath.Join(ws, "bazel-bin", "image_dev")+":latest", []string{"/bin/sh", "-c", "echo a dev shell; cat /etc/os-release; apk info; app"})
	t.Logf("the dev image's shell printed:\n%s", got)
	for _, w := range []string{"a dev shell", "ID=devtest", "dev-baselayout", "app", "busybox", "apk-tools", "app: the production entrypoint"} {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("the dev image's shell output lacks %q:\n%s", w, got)
		}
	}
}

// hasFields reports whether a line of out starts with the whitespace-separated fields of want.
func hasFields(out string, want []string) bool {
	w := strings.Fields(strings.Join(want, " "))
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= len(w) && strings.Join(f[:len(w)], " ") == strings.Join(w, " ") {
			return true
		}
	}
	return false
}
