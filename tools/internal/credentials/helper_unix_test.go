//go:build unix

package credentials

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// shortLimits makes a helper's limit and the wait for its pipes short, for one test.
func shortLimits(t *testing.T) {
	t.Helper()
	limit, delay := helperTimeout, waitDelay
	helperTimeout, waitDelay = 300*time.Millisecond, 200*time.Millisecond
	t.Cleanup(func() { helperTimeout, waitDelay = limit, delay })
}

// script writes an executable shell script named name into a fresh directory.
func script(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// resolveWithin resolves ref, failing the test if that takes longer than 5 s (a hang).
func resolveWithin(t *testing.T, kc authn.Keychain, ref string) (authn.AuthConfig, time.Duration, error) {
	t.Helper()
	type result struct {
		cfg  authn.AuthConfig
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		cfg, err := resolve(t, kc, ref)
		done <- result{cfg, err, time.Since(start)}
	}()
	select {
	case r := <-done:
		return r.cfg, r.took, r.err
	case <-time.After(5 * time.Second):
		t.Fatalf("resolving %s: no answer after 5s", ref)
	}
	return authn.AuthConfig{}, 0, nil
}

// childPID reads the pid a helper script wrote, and ends that process when the test ends.
func childPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the helper's child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

// alive reports whether pid still runs 200 ms from now; a zombie (killed, not yet reaped
// by its new parent) has ended.
func alive(pid int) bool {
	for i := 0; i < 20; i++ {
		out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
		if err != nil || strings.HasPrefix(strings.TrimSpace(string(out)), "Z") {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// A credsStore program that never answers: stopped at the limit, with a message naming it
// and the limit (#26 item 6).
func TestDockerHelperTimeout(t *testing.T) {
	home := isolate(t)
	shortLimits(t)
	prog := script(t, "docker-credential-hang", "sleep 600")
	onPath(t, prog)
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, "docker"))
	config := filepath.Join(home, "docker", "config.json")
	writeJSON(t, config, map[string]any{"credsStore": "hang"})
	_, _, err := resolveWithin(t, Keychain(nil), "registry.example.com/a")
	want := "registry registry.example.com: credentials from the Docker config: " + config +
		" credsStore: docker-credential-hang for registry.example.com/a: no answer within 300ms: stopped, and not asked again in this run ($WHARF_CREDENTIAL_HELPER_TIMEOUT sets the limit in seconds)"
	if err == nil || err.Error() != want {
		t.Fatalf("hanging credsStore: %v\nwant %s", err, want)
	}
}

// A Bazel credential helper whose child holds its stdout and never exits: the group is
// killed at the limit, push does not wait for the pipe, and the helper is not run again
// (#26 item 7).
func TestBazelHelperChildHoldsStdout(t *testing.T) {
	isolate(t)
	shortLimits(t)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	prog := script(t, "bazel-helper-hang", "echo run >> "+os.Getenv("CREDTEST_LOG")+"\nsleep 600 &\necho $! > "+pidFile+"\nwait")
	kc := Keychain([]Helper{{Path: prog}})
	_, took, err := resolveWithin(t, kc, "registry.example.com/a")
	want := "registry registry.example.com: credential helper " + prog + " for https://registry.example.com/v2/a/: no answer within 300ms: stopped, and not asked again in this run ($WHARF_CREDENTIAL_HELPER_TIMEOUT sets the limit in seconds)"
	if err == nil || err.Error() != want {
		t.Fatalf("hanging helper: %v (after %s)\nwant %s", err, took, want)
	}
	if pid := childPID(t, pidFile); alive(pid) {
		t.Errorf("the helper's child %d still runs after the limit", pid)
	}
	// Asked again (another keychain, another repository): the same message at once.
	_, took, err = resolveWithin(t, Keychain([]Helper{{Path: prog}}), "registry.example.com/b")
	want = strings.Replace(want, "/v2/a/", "/v2/b/", 1)
	if err == nil || err.Error() != want || took > 100*time.Millisecond {
		t.Errorf("asked again: %v after %s\nwant %s at once", err, took, want)
	}
	if got := requests(t); len(got) != 1 {
		t.Errorf("the helper ran %d times, want once", len(got))
	}
}

// A helper that answers and exits, leaving a child that holds its stdout: its answer is
// taken without waiting for the child (#26 item 7).
func TestBazelHelperAnswersLeavingChild(t *testing.T) {
	isolate(t)
	shortLimits(t)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	prog := script(t, "bazel-helper-daemon", `cat >/dev/null
echo '{"headers": {"Authorization": ["Bearer s3cr3t-TOKEN-daemon"]}}'
sleep 600 &
echo $! > `+pidFile)
	cfg, _, err := resolveWithin(t, Keychain([]Helper{{Path: prog}}), "registry.example.com/a")
	childPID(t, pidFile)
	if err != nil || cfg.RegistryToken != "s3cr3t-TOKEN-daemon" {
		t.Fatalf("helper that leaves a child: %+v %v", cfg, err)
	}
}
