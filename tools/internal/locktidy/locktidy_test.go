package locktidy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree writes files (path → content) under a new directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		f := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// tidy runs Run on root twice: the first run's log and MODULE.bazel are returned, and the
// second must change nothing.
func tidy(t *testing.T, root string) (string, string) {
	t.Helper()
	var log bytes.Buffer
	if err := Run(root, false, &log); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(root, "MODULE.bazel"))
	var again bytes.Buffer
	if err := Run(root, true, &again); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !strings.Contains(again.String(), "in step with") {
		t.Errorf("second run said %q", again.String())
	}
	return log.String(), string(first)
}

func TestRunAddsEntriesBesideHandWrittenOnes(t *testing.T) {
	root := tree(t, map[string]string{
		"MODULE.bazel": `module(name = "m")

bazel_dep(name = "rules_wharf", version = "0.0.0")

apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "base", lock = "//:base.lock.json")
use_repo(apk, "base")

register_toolchains("//:t")
`,
		"BUILD.bazel":                   "",
		"base.lock.json":                "{}",
		"apko.lock.json":                "{}",
		"svc/api-v2/BUILD.bazel":        "",
		"svc/api-v2/apko.lock.json":     "{}",
		"svc/web/apko.lock.json":        "{}", // no BUILD file: a file of the root package
		"third/MODULE.bazel":            "",   // a nested module: not ours
		"third/apko.lock.json":          "{}",
		".hidden/apko.lock.json":        "{}",
		"ignored/apko.lock.json":        "{}",
		".bazelignore":                  "# not the module's\nignored/\n",
		"bazel-m/apko.lock.json":        "{}",
		"svc/api-v2/testdata/BUILD.bzl": "",
	})
	log, got := tidy(t, root)
	want := `module(name = "m")

bazel_dep(name = "rules_wharf", version = "0.0.0")

apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(
    name = "base",
    lock = "//:base.lock.json",
)
apk.translate_lock(
    name = "apko",
    lock = "//:apko.lock.json",
)
apk.translate_lock(
    name = "apko_svc_api_v2",
    lock = "//svc/api-v2:apko.lock.json",
)
apk.translate_lock(
    name = "apko_svc_web",
    lock = "//:svc/web/apko.lock.json",
)
use_repo(apk, "apko", "apko_svc_api_v2", "apko_svc_web", "base")

register_toolchains("//:t")
`
	if got != want {
		t.Errorf("MODULE.bazel:\n%s\nwant:\n%s", got, want)
	}
	for _, w := range []string{
		`MODULE.bazel: added apk.translate_lock(name = "apko", lock = "//:apko.lock.json") and use_repo "apko": apko.lock.json had none`,
		`MODULE.bazel: added apk.translate_lock(name = "apko_svc_web", lock = "//:svc/web/apko.lock.json") and use_repo "apko_svc_web": svc/web/apko.lock.json had none`,
	} {
		if !strings.Contains(log, w+"\n") {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
}

func TestRunStartsTheExtension(t *testing.T) {
	root := tree(t, map[string]string{
		"MODULE.bazel":       "bazel_dep(name = \"rules_wharf\", version = \"0.0.0\", repo_name = \"wharf\")\n",
		"app/BUILD":          "",
		"app/apko.lock.json": "{}",
	})
	_, got := tidy(t, root)
	want := `bazel_dep(name = "rules_wharf", version = "0.0.0", repo_name = "wharf")

apk = use_extension("@wharf//apk:extensions.bzl", "apk")
apk.translate_lock(
    name = "apko_app",
    lock = "//app:apko.lock.json",
)
use_repo(apk, "apko_app")
`
	if got != want {
		t.Errorf("MODULE.bazel:\n%s\nwant:\n%s", got, want)
	}
}

func TestRunRemovesStaleRelabelsAndKeeps(t *testing.T) {
	root := tree(t, map[string]string{
		"MODULE.bazel": `apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "gone", lock = "//gone:apko.lock.json")
apk.translate_lock(name = "moved", lock = "//:a/b/apko.lock.json")
apk.translate_lock(name = "other", lock = "//:missing.lock.json")
apk.translate_lock(name = "kept", lock = "//kept:apko.lock.json")  # keep
use_repo(apk, "gone", "kept", "other")

dev = use_extension("@rules_wharf//apk:extensions.bzl", "apk", dev_dependency = True)
dev.translate_lock(name = "dev_gone", lock = "//dev:apko.lock.json")
use_repo(dev, "dev_gone")
`,
		"a/b/BUILD.bazel":    "",
		"a/b/apko.lock.json": "{}",
	})
	log, got := tidy(t, root)
	want := `apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(
    name = "moved",
    lock = "//a/b:apko.lock.json",
)
apk.translate_lock(
    name = "other",
    lock = "//:missing.lock.json",
)
apk.translate_lock(
    name = "kept",
    lock = "//kept:apko.lock.json",
)  # keep
use_repo(apk, "kept", "moved", "other")

dev = use_extension("@rules_wharf//apk:extensions.bzl", "apk", dev_dependency = True)
`
	if got != want {
		t.Errorf("MODULE.bazel:\n%s\nwant:\n%s", got, want)
	}
	for _, w := range []string{
		`MODULE.bazel: removed apk.translate_lock(name = "gone", lock = "//gone:apko.lock.json") and use_repo "gone": gone/apko.lock.json no longer exists`,
		`MODULE.bazel: removed dev.translate_lock(name = "dev_gone", lock = "//dev:apko.lock.json") and use_repo "dev_gone": dev/apko.lock.json no longer exists`,
		`MODULE.bazel: apk.translate_lock(name = "moved") names a/b/apko.lock.json as "//a/b:apko.lock.json", was "//:a/b/apko.lock.json" (its package changed)`,
		`MODULE.bazel: use_repo(apk, ...) gains "moved", the repository of a/b/apko.lock.json`,
	} {
		if !strings.Contains(log, w+"\n") {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		check bool
		want  string
	}{
		{"name taken", map[string]string{
			"MODULE.bazel":       "apk = use_extension(\"@rules_wharf//apk:extensions.bzl\", \"apk\")\napk.translate_lock(name = \"apko_app\", lock = \"//:other.lock.json\")\n",
			"app/apko.lock.json": "{}",
		}, false, `MODULE.bazel: app/apko.lock.json has no apk.translate_lock, and its name "apko_app" is taken by the entry for //:other.lock.json: add one for it by hand with another name`},
		{"check", map[string]string{
			"MODULE.bazel":   "",
			"apko.lock.json": "{}",
		}, true, "MODULE.bazel is not in step with the tree's apko.lock.json files:\n  MODULE.bazel: added apk.translate_lock(name = \"apko\", lock = \"//:apko.lock.json\") and use_repo \"apko\": apko.lock.json had none"},
		{"syntax", map[string]string{"MODULE.bazel": "apk = use_extension(\n"}, false, "MODULE.bazel:3:1: syntax error"},
		{"no module", map[string]string{"BUILD": ""}, false, "reading the module's MODULE.bazel: open "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tree(t, tc.files)
			before, _ := os.ReadFile(filepath.Join(root, "MODULE.bazel"))
			err := Run(root, tc.check, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if tc.check && !errors.Is(err, ErrNotTidy) {
				t.Errorf("%v is not ErrNotTidy", err)
			}
			after, _ := os.ReadFile(filepath.Join(root, "MODULE.bazel"))
			if !bytes.Equal(before, after) {
				t.Errorf("MODULE.bazel changed on error:\n%s", after)
			}
		})
	}
}

func TestRepos(t *testing.T) {
	repos, err := Repos("MODULE.bazel", []byte(`bazel_dep(name = "rules_wharf", repo_name = "w")
a = use_extension("@w//apk:extensions.bzl", "apk")
a.translate_lock(name = "base", lock = "@@//app:apko.lock.json")
a.translate_lock(name = "ext", lock = "@other//:apko.lock.json")
b = use_extension("@elsewhere//apk:extensions.bzl", "apk")
b.translate_lock(name = "not_ours", lock = "//x:apko.lock.json")
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 1 || repos["app/apko.lock.json"] != "base" {
		t.Errorf("Repos = %v", repos)
	}
	if got := RepoFor(repos, "app/apko.lock.json"); got != "base" {
		t.Errorf("RepoFor(app) = %q", got)
	}
	if got := RepoFor(repos, "x/y.z/apko.lock.json"); got != "apko_x_y_z" {
		t.Errorf("RepoFor(x/y.z) = %q", got)
	}
}

// TestScanErrors: what Scan says when it cannot look through the tree.
func TestScanErrors(t *testing.T) {
	root := tree(t, map[string]string{".bazelignore/x": ""})
	if _, err := Scan(root); err == nil || !strings.HasPrefix(err.Error(), "reading .bazelignore: read ") || !strings.HasSuffix(err.Error(), "is a directory") {
		t.Errorf(".bazelignore a directory: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "gone")
	if _, err := Scan(missing); err == nil || err.Error() != "looking for apko.lock.json files: lstat "+missing+": no such file or directory" {
		t.Errorf("a missing root: %v", err)
	}
}
