package structuretest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// helperSource is the program the runc test's image runs: static, so it needs no libc.
const helperSource = `package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	switch os.Args[1] {
	case "echo":
		fmt.Println(os.Args[2:])
		fmt.Fprintln(os.Stderr, "to stderr")
	case "exit":
		n, _ := strconv.Atoi(os.Args[2])
		os.Exit(n)
	case "write":
		if err := os.WriteFile(os.Args[2], []byte("written"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	case "read":
		b, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("%s\n", b)
	case "version":
	case "whoami":
		wd, _ := os.Getwd()
		fmt.Printf("uid=%d gid=%d cwd=%s STYLE=%s EXTRA=%s\n", os.Getuid(), os.Getgid(), wd, os.Getenv("STYLE"), os.Getenv("EXTRA"))
	}
}
`

// runcImage builds the helper and returns a layer with it at /bin/helper, or skips.
func runcImage(t *testing.T) []Layer {
	t.Helper()
	if _, err := exec.LookPath("runc"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs runc and root")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs go to build the helper")
	}
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, "main.go"), []byte(helperSource), 0o644)
	os.WriteFile(filepath.Join(d, "go.mod"), []byte("module helper\n\ngo 1.22\n"), 0o644)
	cmd := exec.Command(goBin, "build", "-o", "helper", ".")
	cmd.Dir, cmd.Env = d, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the helper: %v\n%s", err, out)
	}
	helper, _ := os.ReadFile(filepath.Join(d, "helper"))
	probeProgram = func() (string, error) { return filepath.Join(d, "helper"), nil }
	t.Cleanup(func() { probeProgram = os.Executable })
	return []Layer{writeLayer(t, d, "l", "gz", dir("bin", 0o755), file("bin/helper", string(helper), 0o755),
		dir("srv", 0o777), file("etc/passwd", "root:x:0:0::/root:/bin/helper\napp:x:1000:1001::/srv:/bin/helper\n", 0o644))}
}

func TestCommandTestsUnderRunc(t *testing.T) {
	layers := runcImage(t)
	d := t.TempDir()
	cfg := `{"os":"linux","architecture":"amd64","config":{"User":"app","WorkingDir":"/srv","Env":["STYLE=plain","PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":[]}}`
	yaml := `schemaVersion: 2.0.0
globalEnvVars: [{key: EXTRA, value: "x-$STYLE"}]
commandTests:
- {name: echo, command: /bin/helper, args: [echo, hi, "$STYLE"], expectedOutput: ["\\[hi plain\\]"], expectedError: ["to stderr"], excludedOutput: ["bye"]}
- {name: exit code, command: /bin/helper, args: [exit, "3"], exitCode: 3}
- {name: user and env, command: /bin/helper, args: [whoami], expectedOutput: ["uid=1000 gid=1001 cwd=/srv STYLE=plain EXTRA=x-plain"]}
- {name: setup kept, setup: [[/bin/helper, write, /srv/made]], command: /bin/helper, args: [read, /srv/made], expectedOutput: [written], teardown: [[/bin/helper, exit, "0"]]}
- {name: fresh root, command: /bin/helper, args: [read, /srv/made], exitCode: 2}
- {name: wrong, command: /bin/helper, args: [echo, hi], expectedOutput: [bye], excludedError: [stderr], exitCode: 1}
- {name: setup fails, setup: [[/bin/helper, exit, "4"]], command: /bin/helper, args: [echo]}
`
	results, err := Run(Options{Configs: []string{writeFile(t, d, "c.yaml", yaml)}, ImageConfig: writeFile(t, d, "config.json", cfg), Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := Report(&out, results); !errors.Is(err, ErrFailed) {
		t.Fatalf("Report = %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"=== PASS: Command Test: echo", "=== PASS: Command Test: exit code", "=== PASS: Command Test: user and env",
		"=== PASS: Command Test: setup kept", "=== PASS: Command Test: fresh root",
		"=== FAIL: Command Test: wrong\n", "Expected string 'bye' not found in output '[hi]\n'",
		"Excluded string 'stderr' found in error 'to stderr\n'",
		"Test 'wrong' exited with incorrect error code. Expected: 1, Actual: 0",
		`=== FAIL: Command Test: setup fails` + "\n" + `    setup command ["/bin/helper" "exit" "4"]: exit code 4` + "\n",
		"Passes: 5, Failures: 2, Skipped: 0, Total: 7",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// A runc that cannot start a container (here: the probe is not static, as the test binary
// is not) makes every command test SKIPPED with the reason, not failed.
func TestUnusableRuncSkips(t *testing.T) {
	layers := runcImage(t)
	probeProgram = func() (string, error) { return "/bin/sh", nil } // needs a libc the probe root lacks
	d := t.TempDir()
	results, err := Run(Options{
		Configs:     []string{writeFile(t, d, "c.yaml", "schemaVersion: 2.0.0\ncommandTests: [{name: echo, command: /bin/helper, args: [echo]}]\n")},
		ImageConfig: writeFile(t, d, "config.json", testConfig),
		Layers:      layers,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := Report(&out, results); err != nil || !strings.Contains(out.String(), "=== SKIPPED: Command Test: echo\n    SKIPPED: runc is on PATH but cannot start a container here: exit code 1") {
		t.Errorf("%v:\n%s", err, out.String())
	}
}

func TestNotRootSkips(t *testing.T) {
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "runc"), []byte("#!/bin/false\n"), 0o755)
	t.Setenv("PATH", bin)
	geteuid = func() int { return 1000 }
	t.Cleanup(func() { geteuid = os.Geteuid })
	if r, skip := newRunner(nil, nil, nil); r != nil || skip != "SKIPPED: commandTests run under runc as root, and this test runs as uid 1000" {
		t.Errorf("newRunner = %v, %q", r, skip)
	}
}
