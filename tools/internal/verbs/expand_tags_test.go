package verbs

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rules-wharf/rules_wharf/tools/internal/registrytest"
)

// expandTags runs expand-tags on files made from contents (name → text) and returns the
// tags it wrote, or its error.
func expandTags(t *testing.T, files map[string]string, args ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range args {
		if _, ok := files[a]; ok {
			args[i] = filepath.Join(dir, a)
		}
	}
	out := filepath.Join(dir, "tags.txt")
	if err := expandTagsVerb(append(args, "--out", out)); err != nil {
		if _, serr := os.Stat(out); serr == nil {
			t.Errorf("expand-tags failed (%v) but wrote %s", err, out)
		}
		return "", err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), nil
}

var status = map[string]string{
	"stable-status.txt":   "BUILD_EMBED_LABEL 1.2.3\nSTABLE_GIT_COMMIT 0123abc\nBUILD_HOST some host\n",
	"volatile-status.txt": "BUILD_TIMESTAMP 1700000000\nBUILD_EMBED_LABEL 9.9.9-ignored-if-stable-later\n",
	"list.txt":            "\n  from-file \nlatest\n{STABLE_GIT_COMMIT}-file\n",
	"bad.txt":             "ok\nno spaces allowed\n",
}

func TestExpandTags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"stamped", []string{"--status", "volatile-status.txt", "--status", "stable-status.txt",
			"--tag", "v{BUILD_EMBED_LABEL}", "--tag", "git-{STABLE_GIT_COMMIT}-{BUILD_TIMESTAMP}", "--tag", "latest"},
			"v1.2.3\ngit-0123abc-1700000000\nlatest\n"},
		// Literal tags first, then each file's in order; a repeat keeps its first place.
		{"literal and file, order and repeats", []string{"--tag", "latest", "--tag", "b", "--tags-file", "list.txt", "--tag", "b",
			"--status", "stable-status.txt"},
			"latest\nb\nfrom-file\n0123abc-file\n"},
		// Not stamping: placeholders stay for push to refuse, so the build does not fail.
		{"not stamped", []string{"--tag", "v{BUILD_EMBED_LABEL}", "--tags-file", "list.txt"},
			"v{BUILD_EMBED_LABEL}\nfrom-file\nlatest\n{STABLE_GIT_COMMIT}-file\n"},
		{"no tags", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := expandTags(t, status, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("tags %q, want %q", got, c.want)
			}
		})
	}
}

func TestExpandTagsErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"--status", "stable-status.txt", "--tag", "x-{NO_SUCH_KEY}"},
			`tag "x-{NO_SUCH_KEY}": the workspace status has no key NO_SUCH_KEY (keys: BUILD_EMBED_LABEL, BUILD_HOST, STABLE_GIT_COMMIT)`},
		{"expands to a bad tag", []string{"--status", "stable-status.txt", "--tag", "{BUILD_HOST}"},
			`tag "{BUILD_HOST}" expands to "some host", not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})`},
		{"bad literal tag", []string{"--tag", "-leading-dash"},
			`tag "-leading-dash" is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})`},
		{"too long", []string{"--tag", strings.Repeat("a", 129)},
			`tag "` + strings.Repeat("a", 129) + `" is not a valid tag`},
		{"bad tag with a placeholder, not stamped", []string{"--tag", "a/{BUILD_EMBED_LABEL}"},
			`tag "a/{BUILD_EMBED_LABEL}" is not a valid tag`},
		{"bad tag in a file", []string{"--tags-file", "bad.txt"},
			`tag "no spaces allowed" is not a valid tag`},
		{"missing tags file", []string{"--tags-file", "/nonexistent/tags.txt"},
			"tags file: open /nonexistent/tags.txt: no such file or directory"},
		{"missing status file", []string{"--status", "/nonexistent/stable-status.txt"},
			"workspace status: open /nonexistent/stable-status.txt: no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := expandTags(t, status, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want %q", err, c.want)
			}
			t.Logf("user sees: %v", err)
		})
	}
	if err := expandTagsVerb(nil); err == nil || !strings.Contains(err.Error(), "out") {
		t.Errorf("without --out: %v", err)
	}
}

// push refuses a tag that is still a placeholder (built without --stamp) or bad, from
// the rule's tags file or from --tag, before it talks to any registry.
func TestPushRefusesBadTags(t *testing.T) {
	l := newPushLayout(t)
	tags := filepath.Join(t.TempDir(), "tags.txt")
	os.WriteFile(tags, []byte("latest\nv{BUILD_EMBED_LABEL}\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--plan", l.withLines(t, "--tags-file="+tags)},
			`tag "v{BUILD_EMBED_LABEL}" holds a workspace status placeholder, which is expanded only when stamping: build with --stamp (or stamp = 1 on the oci_push)`},
		{[]string{"--plan", l.withLines(t, "--tags-file="+tags), "--tag", "ok", "--tag", "not:ok"}, `tag "not:ok" is not a valid tag`},
		{[]string{"--plan", l.withLines(t, "--tags-file="+filepath.Join(t.TempDir(), "none.txt"))}, "tags file: open "},
	} {
		err := pushVerb(append([]string{"--no-bazelrc", "--repository", "127.0.0.1:1/app"}, c.args...), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("push %v: got %v, want %q", c.args, err, c.want)
		}
		t.Logf("user sees: %v", err)
	}
}

// --tag replaces the rule's tags: a placeholder left in the rule's file does not matter.
func TestPushTagReplacesTagsFile(t *testing.T) {
	fastRetries(t)
	noCredentials(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	tags := filepath.Join(t.TempDir(), "tags.txt")
	os.WriteFile(tags, []byte("latest\nv{BUILD_EMBED_LABEL}\n"), 0o644)
	out, err := runPush(t, "--plan", l.withLines(t, "--tags-file="+tags), "--repository", reg.Host+"/app", "--tag", "given")
	if err != nil {
		t.Fatal(err)
	}
	assertPushed(t, reg, "app", l, out)
	for tag, want := range map[string]string{"given": l.digest, "latest": ""} {
		got := ""
		ref, err := name.ParseReference(reg.Host + "/app:" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := remote.Head(ref); err == nil {
			got = d.Digest.String()
		}
		if got != want {
			t.Errorf("tag %s is on %q, want %q", tag, got, want)
		}
	}
}
