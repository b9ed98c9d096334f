package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/redact"
)

// HelperTimeout bounds one run of every credential helper wharf runs: Bazel credential
// helpers and docker-credential-* programs, for push and lock; oci.pull (pull_auth.bzl)
// gives its docker-credential-* programs the same. $WHARF_CREDENTIAL_HELPER_TIMEOUT
// overrides it, as Bazel's --credential_helper_timeout does for Bazel's own runs.
const HelperTimeout = 30 * time.Second

// EnvHelperTimeout is the environment variable giving the helpers' limit in whole seconds.
const EnvHelperTimeout = "WHARF_CREDENTIAL_HELPER_TIMEOUT"

var (
	// helperTimeout is HelperTimeout; tests shorten it.
	helperTimeout = HelperTimeout
	// waitDelay bounds the wait for a helper's output once it has exited or been killed:
	// a child it left behind may hold the pipe open for ever.
	waitDelay = time.Second
)

// timedOut remembers, for the rest of the process, the helpers that gave no answer in
// time: each later ask fails at once with the same message instead of waiting again.
var timedOut = struct {
	sync.Mutex
	errs map[string]error
}{errs: map[string]error{}}

// limit is the helpers' time limit: $WHARF_CREDENTIAL_HELPER_TIMEOUT, else helperTimeout.
func limit() (time.Duration, error) {
	if os.Getenv(EnvHelperTimeout) == "" {
		return helperTimeout, nil
	}
	return EnvSeconds(EnvHelperTimeout, HelperTimeout)
}

// EnvSeconds is the time limit $env gives in whole seconds, else def.
func EnvSeconds(env string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(env)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("$%s is %q: want a whole number of seconds above 0 (default %d)", env, v, int(def/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}

// run runs argv in dir with stdin and returns its stdout, also when it exits with an error
// (Docker's helpers answer there; callers must not quote it). Errors never quote stdout (it
// may hold a secret); they quote stderr. A run longer than limit() is killed with its child
// processes (see ownGroup), and the program is not run again in this process.
func run(ctx context.Context, dir string, argv []string, stdin []byte) ([]byte, error) {
	d, err := limit()
	if err != nil {
		return nil, err
	}
	return RunLimited(ctx, dir, argv, stdin, d, EnvHelperTimeout)
}

// RunLimited runs a program as credential helpers are run (see run), with the limit d,
// which the message of a timeout says $env sets: push's signer programs use it too.
func RunLimited(ctx context.Context, dir string, argv []string, stdin []byte, d time.Duration, env string) ([]byte, error) {
	key := argv[0] + "\x00" + dir
	timedOut.Lock()
	err := timedOut.errs[key]
	timedOut.Unlock()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = waitDelay
	ownGroup(cmd)
	err = cmd.Run()
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		// ErrWaitDelay: it exited with success, a child of its still holds the pipe.
		return stdout.Bytes(), nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = fmt.Errorf("no answer within %s: stopped, and not asked again in this run ($%s sets the limit in seconds)", d, env)
		timedOut.Lock()
		timedOut.errs[key] = err
		timedOut.Unlock()
		return nil, err
	}
	return stdout.Bytes(), failed(err, stderr.String())
}

// failed is the error of a helper that did not run to success: quoting its stderr (URL
// userinfo masked), never its stdout.
func failed(err error, stderr string) error {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return err // not started, or not run to its end
	}
	msg := redact.Text(strings.TrimSpace(stderr))
	if msg == "" {
		return fmt.Errorf("%w (nothing on stderr; its stdout is not shown: it may hold credentials)", err)
	}
	if len(msg) > 2000 {
		msg = msg[:2000] + "..."
	}
	return fmt.Errorf("%w: %s", err, msg)
}
