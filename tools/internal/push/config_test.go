package push

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// resolve parses args as push's flags and resolves the caches they, the environment and
// the rc files give.
func resolve(t *testing.T, args ...string) (*RemoteCache, string) {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := c.checkTargets(); err != nil {
		t.Fatal(err)
	}
	o, err := c.options()
	if err != nil {
		t.Fatal(err)
	}
	var remote *RemoteCache
	var disk string
	for _, s := range o.Sources {
		switch s := s.(type) {
		case *remoteCacheSource:
			remote = &s.rc
		case DiskCacheSource:
			disk = string(s)
		}
	}
	return remote, disk
}

// The caches come from the flags where given, else from the rc files: the workspace's,
// then $WHARF_BAZELRC's and --bazelrc's instead of ~/.bazelrc, with the --config groups of
// --bazel-config and $WHARF_BAZEL_CONFIG; flags about the remote cache refine the rc
// files' cache unless --remote-cache names another.
func TestConfigPrecedence(t *testing.T) {
	ws, home := t.TempDir(), t.TempDir()
	t.Setenv("BUILD_WORKSPACE_DIRECTORY", ws)
	t.Setenv("HOME", home)
	t.Setenv("WHARF_BAZEL_CONFIG", "")
	t.Setenv("WHARF_BAZELRC", "")
	t.Setenv("WHARF_CREDENTIAL_HELPERS", "")
	write := func(p, s string) string {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(filepath.Join(ws, ".bazelrc"), "build --remote_cache=grpc://ws.example --remote_instance_name=ws --disk_cache=/ws-disk\n"+
		"build:ci --remote_cache=grpc://ci.example\nbuild:env --disk_cache=/env-disk\n")
	write(filepath.Join(home, ".bazelrc"), "build --remote_cache=grpc://home.example\n")
	user := write(filepath.Join(t.TempDir(), "user.bazelrc"), "build --remote_instance_name=user\n")
	for _, tc := range []struct {
		name             string
		env              map[string]string
		args             []string
		url, inst, disk  string
		header, noRemote bool
	}{
		{name: "home rc last", url: "grpc://home.example", inst: "ws", disk: "/ws-disk"},
		{name: "--bazelrc instead of home", args: []string{"--bazelrc", user}, url: "grpc://ws.example", inst: "user", disk: "/ws-disk"},
		{name: "$WHARF_BAZELRC", env: map[string]string{"WHARF_BAZELRC": user}, url: "grpc://ws.example", inst: "user", disk: "/ws-disk"},
		{name: "--bazel-config", args: []string{"--bazel-config", "ci"}, url: "grpc://ci.example", inst: "ws", disk: "/ws-disk"},
		{name: "$WHARF_BAZEL_CONFIG", env: map[string]string{"WHARF_BAZEL_CONFIG": " env,"}, url: "grpc://home.example", inst: "ws", disk: "/env-disk"},
		{name: "flags refine", args: []string{"--remote-instance-name", "flag", "--remote-header", "X=1", "--disk-cache", "/flag-disk"},
			url: "grpc://home.example", inst: "flag", disk: "/flag-disk", header: true},
		{name: "--remote-cache replaces", args: []string{"--remote-cache", "grpc://flag.example", "--disk-cache", ""},
			url: "grpc://flag.example"},
		{name: "--no-bazelrc", args: []string{"--no-bazelrc"}, noRemote: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			remote, disk := resolve(t, append([]string{"--plan", "p"}, tc.args...)...)
			if tc.noRemote {
				if remote != nil || disk != "" {
					t.Fatalf("remote %+v, disk %q; want none", remote, disk)
				}
				return
			}
			if remote == nil {
				t.Fatal("no remote cache")
			}
			got := []string{remote.URL, remote.InstanceName, disk}
			if want := []string{tc.url, tc.inst, tc.disk}; !reflect.DeepEqual(got, want) {
				t.Errorf("url, instance, disk cache %q, want %q", got, want)
			}
			if h := remote.Headers.Get("X"); (h == "1") != tc.header {
				t.Errorf("header X %q, want it from the flag: %v", h, tc.header)
			}
		})
	}
}
