package structuretest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// runner runs commandTests in containers under runc: each test in a fresh root filesystem
// unpacked from the layers, its setup commands first (their changes kept for the test, as
// CST's docker driver commits them), then the command, then teardown.
type runner struct {
	runc   string
	layers []Layer
	img    *Image
	global []KeyValue
	n      int
}

var geteuid = os.Geteuid

// newRunner finds runc, or says why commandTests are skipped.
func newRunner(layers []Layer, img *Image, global []KeyValue) (*runner, string) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		return nil, "SKIPPED: commandTests run under runc, and no runc is on PATH (Bazel's local test PATH is /bin:/usr/bin:/usr/local/bin; a remote runner may have none); run them where runc is, or with container-structure-test --driver docker"
	}
	if uid := geteuid(); uid != 0 {
		return nil, fmt.Sprintf("SKIPPED: commandTests run under runc as root, and this test runs as uid %d", uid)
	}
	return &runner{runc: runc, layers: layers, img: img, global: global}, ""
}

// probeProgram is the static program probe runs: wharf itself (tests give their own).
var probeProgram = os.Executable

// probe starts one container holding only this program (static) and runs its `version`
// verb: runc on PATH may still be unable to start containers (no privileges, nested
// sandboxes), and that is a reason to skip, not a failure of the image's commands.
func (r *runner) probe() error {
	self, err := probeProgram()
	if err != nil {
		return err
	}
	bundle, err := os.MkdirTemp("", "wharf-structure-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bundle)
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, r.img.Config.Workdir), 0o755); err != nil {
		return err
	}
	b, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(rootfs, "probe"), b, 0o755); err != nil {
		return err
	}
	_, stderr, code, err := r.exec(bundle, nil, []string{"/probe", "version"})
	if err == nil && code != 0 {
		err = fmt.Errorf("exit code %d: %s", code, shorten(strings.TrimSpace(stderr)))
	}
	return err
}

func (r *runner) run(t CommandTest) *Result {
	res := newResult("Command Test: " + t.Name)
	bundle, err := os.MkdirTemp("", "wharf-structure-test-")
	if err != nil {
		res.errorf("%v", err)
		return res
	}
	defer os.RemoveAll(bundle)
	if err := r.img.FS.Unpack(r.layers, filepath.Join(bundle, "rootfs")); err != nil {
		res.errorf("unpacking the image for runc: %v", err)
		return res
	}
	for _, c := range t.Setup {
		if _, stderr, code, err := r.exec(bundle, t.EnvVars, c); err != nil || code != 0 {
			res.errorf("setup command %q: %s", c, outcome(code, err, stderr))
			return res
		}
	}
	argv := append([]string{t.Command}, t.Args...)
	for i := range argv {
		argv[i] = os.Expand(argv[i], func(k string) string { return r.img.Config.Env[k] })
	}
	stdout, stderr, code, err := r.exec(bundle, t.EnvVars, argv)
	if err != nil {
		res.errorf("running %q under runc: %v", argv, err)
		return res
	}
	t.check(res, stdout, stderr, code)
	for _, c := range t.Teardown {
		if _, stderr, code, err := r.exec(bundle, t.EnvVars, c); err != nil || code != 0 {
			res.errorf("teardown command %q: %s", c, outcome(code, err, stderr))
		}
	}
	return res
}

// outcome says how a setup or teardown command failed.
func outcome(code int, err error, stderr string) string {
	if err != nil {
		return err.Error()
	}
	if stderr = strings.TrimSpace(stderr); stderr != "" {
		return fmt.Sprintf("exit code %d: %s", code, shorten(stderr))
	}
	return fmt.Sprintf("exit code %d", code)
}

// exec runs argv in the bundle's root filesystem: the image's env, user and working
// directory, no network (runc's default spec: its own network namespace).
func (r *runner) exec(bundle string, env []KeyValue, argv []string) (string, string, int, error) {
	spec, err := r.spec(bundle, env, argv)
	if err != nil {
		return "", "", 0, err
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), spec, 0o644); err != nil {
		return "", "", 0, err
	}
	r.n++
	id := fmt.Sprintf("wharf-st-%d-%d", os.Getpid(), r.n)
	cmd := exec.Command(r.runc, "run", "--bundle", bundle, id)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return stdout.String(), stderr.String(), exit.ExitCode(), nil
	}
	return stdout.String(), stderr.String(), 0, err
}

// spec edits runc's default spec: the command, env, user, working directory, a writable root.
func (r *runner) spec(bundle string, env []KeyValue, argv []string) ([]byte, error) {
	os.Remove(filepath.Join(bundle, "config.json"))
	if out, err := exec.Command(r.runc, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("runc spec: %v: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, err
	}
	uid, gid := r.user(bundle)
	proc := spec["process"].(map[string]any)
	proc["terminal"], proc["args"], proc["env"] = false, argv, r.env(env)
	proc["cwd"] = r.img.Config.Workdir
	if proc["cwd"] == "" {
		proc["cwd"] = "/"
	}
	proc["user"] = map[string]any{"uid": uid, "gid": gid}
	spec["root"] = map[string]any{"path": "rootfs", "readonly": false}
	return json.Marshal(spec)
}

func (r *runner) env(extra []KeyValue) []string {
	env := map[string]string{}
	for k, v := range r.img.Config.Env {
		env[k] = v
	}
	for _, kv := range append(append([]KeyValue{}, r.global...), extra...) {
		env[kv.Key] = os.Expand(kv.Value, func(k string) string { return env[k] })
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// user is the config's user as numbers: uid[:gid], or names looked up in the image's
// /etc/passwd and /etc/group.
func (r *runner) user(bundle string) (int, int) {
	u, g, _ := strings.Cut(r.img.Config.User, ":")
	passwd, _ := os.ReadFile(filepath.Join(bundle, "rootfs", "etc", "passwd"))
	groups, _ := os.ReadFile(filepath.Join(bundle, "rootfs", "etc", "group"))
	uid, defaultGID := lookup(u, passwd, 2)
	gid, _ := lookup(g, groups, 2)
	if g == "" {
		gid = defaultGID
	}
	return uid, gid
}

// lookup is a number, or the id field of name's line in a passwd/group file, and (for
// passwd) the line's group field.
func lookup(name string, file []byte, field int) (int, int) {
	if n, err := strconv.Atoi(name); err == nil || name == "" {
		return n, 0
	}
	for _, line := range strings.Split(string(file), "\n") {
		f := strings.Split(line, ":")
		if len(f) > field+1 && f[0] == name {
			id, _ := strconv.Atoi(f[field])
			g, _ := strconv.Atoi(f[field+1])
			return id, g
		}
	}
	return 0, 0
}

// check is CST's CheckOutput: regular expressions on stdout and stderr, the exit code.
func (t CommandTest) check(res *Result, stdout, stderr string, code int) {
	for _, c := range []struct {
		patterns     []string
		text, what   string
		want         bool
		expected, in string
	}{
		{t.ExpectedError, stderr, "expectedError", true, "Expected", "error"},
		{t.ExcludedError, stderr, "excludedError", false, "Excluded", "error"},
		{t.ExpectedOutput, stdout, "expectedOutput", true, "Expected", "output"},
		{t.ExcludedOutput, stdout, "excludedOutput", false, "Excluded", "output"},
	} {
		for _, p := range c.patterns {
			ok, err := matches(p, c.text, c.want)
			switch {
			case err != nil:
				res.errorf("%s %q: %v", c.what, p, err)
			case !ok && c.want:
				res.errorf("%s string '%s' not found in %s '%s'", c.expected, p, c.in, shorten(c.text))
			case !ok:
				res.errorf("%s string '%s' found in %s '%s'", c.expected, p, c.in, shorten(c.text))
			}
		}
	}
	if code != t.ExitCode {
		res.errorf("Test '%s' exited with incorrect error code. Expected: %d, Actual: %d", t.Name, t.ExitCode, code)
	}
}
