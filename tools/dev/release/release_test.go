package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

// The checked-in table is what the generator writes for no binaries: a checkout builds
// from source, and the release replaces exactly this file.
func TestCheckedInVersionsIsEmptyTable(t *testing.T) {
	got, err := os.ReadFile(srctree.Path(t, versionsPath))
	if err != nil {
		t.Fatal(err)
	}
	if want := renderVersions("0.0.0", defaultBaseURL, "", nil); !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the generator's empty table:\n%s", versionsPath, want)
	}
}

func TestRenderVersionsSorted(t *testing.T) {
	got := string(renderVersions("1.2.3", "https://example.com/dl", "go1.26.8", []binary{
		{platform{"windows", "amd64"}, "bb"},
		{platform{"darwin", "arm64"}, "aa"},
	}))
	want := `WHARF_VERSION = "1.2.3"

WHARF_DEFAULT_BASE_URL = "https://example.com/dl"

WHARF_URL_TEMPLATE = "{base_url}/v{version}/{file}"

# Built with go1.26.8 (go build -trimpath, CGO_ENABLED=0).
WHARF_BINARIES = {
    "darwin_arm64": {
        "arch": "arm64",
        "file": "wharf-darwin-arm64",
        "os": "darwin",
        "sha256": "aa",
    },
    "windows_amd64": {
        "arch": "amd64",
        "file": "wharf-windows-amd64.exe",
        "os": "windows",
        "sha256": "bb",
    },
}
`
	if !strings.HasSuffix(got, want) {
		t.Fatalf("got\n%s\nwant it to end with\n%s", got, want)
	}
}

func TestRenderSums(t *testing.T) {
	got := string(renderSums(map[string]string{"b": "22", "a": "11"}))
	if got != "11  a\n22  b\n" {
		t.Fatalf("got %q", got)
	}
}

func TestSourceArchiveDeterministic(t *testing.T) {
	files := []trackedFile{{path: "z.txt"}, {path: "a/run.sh", executable: true}, {path: "a/table.bzl"}}
	write := func(mtime time.Time, perm os.FileMode) string {
		dir := t.TempDir()
		for _, f := range files {
			p := filepath.Join(dir, f.path)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte("content of "+f.path), perm); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, mtime, mtime)
		}
		return dir
	}
	replace := map[string][]byte{"a/table.bzl": []byte("generated")}
	one, err := sourceArchive(write(time.Now(), 0o600), "m-1.0.0", files, replace)
	if err != nil {
		t.Fatal(err)
	}
	two, err := sourceArchive(write(time.Unix(12345, 0), 0o777), "m-1.0.0", files, replace)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one, two) {
		t.Fatal("two checkouts with other mtimes and permissions gave different archives")
	}
	gz, err := gzip.NewReader(bytes.NewReader(one))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() {
		t.Fatalf("gzip header has name %q, mtime %v", gz.Name, gz.ModTime)
	}
	var got []string
	for h, body := range entries(t, gz) {
		if !h.ModTime.Equal(archiveTime) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Fatalf("%s: mtime %v, owner %d:%d %q:%q", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		got = append(got, h.Name+" "+h.FileInfo().Mode().String()+" "+string(body))
	}
	want := []string{
		"m-1.0.0/a/run.sh -rwxr-xr-x content of a/run.sh",
		"m-1.0.0/a/table.bzl -rw-r--r-- generated",
		"m-1.0.0/z.txt -rw-r--r-- content of z.txt",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSourceArchiveErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), nil, 0o644)
	_, err := sourceArchive(dir, "p", []trackedFile{{path: "a"}}, map[string][]byte{versionsPath: nil})
	if want := "source archive: " + versionsPath + " is not tracked in " + dir + " (the release replaces it, so it must exist)"; err == nil || err.Error() != want {
		t.Fatalf("replacing an untracked file: got %v, want %s", err, want)
	}
	_, err = sourceArchive(dir, "p", []trackedFile{{path: "gone"}}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "source archive: open "+filepath.Join(dir, "gone")+": no such file") {
		t.Fatalf("a tracked file missing from the checkout: got %v", err)
	}
}

// Bad flags fail before anything is built or written, naming the flag.
func TestRunErrors(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "old"), nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-out", t.TempDir()}, `-version "": want MAJOR.MINOR.PATCH[-PRERELEASE], e.g. 1.2.3`},
		{[]string{"-version", "v1.2", "-out", t.TempDir()}, `-version "v1.2": want MAJOR.MINOR.PATCH[-PRERELEASE], e.g. 1.2.3`},
		{[]string{"-version", "1.2.3"}, "-out: required"},
		{[]string{"-version", "1.2.3", "-out", full}, "-out " + full + ": not empty (a release is written whole into a new directory)"},
		{[]string{"-version", "1.2.3", "-out", t.TempDir(), "-base-url", "ftp://x"}, `-base-url "ftp://x": want an http(s):// URL`},
		{[]string{"-version", "1.2.3", "-out", t.TempDir(), "-platforms", "linux"}, `-platforms: "linux" is not GOOS/GOARCH`},
		{[]string{"-version", "1.2.3", "-out", t.TempDir(), "-platforms", "linux/amd64,linux/amd64"}, `-platforms: "linux/amd64" given twice`},
		{[]string{"-version", "1.2.3", "-out", t.TempDir(), "-platforms", "plan9/amd64"}, `-platforms: "plan9/amd64": the toolchain extension has exec constraints (//platforms:platforms.bzl) for GOOS darwin, linux, windows and GOARCH 386, amd64, arm64, ppc64le, riscv64, s390x only`},
		{[]string{"-version", "1.2.3", "extra"}, `unexpected arguments ["extra"]`},
	} {
		err := run(tc.args)
		if err == nil || err.Error() != tc.want {
			t.Errorf("release %q: got %v, want %s", tc.args, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Fatalf("a refused -out was changed: %v", entries)
	}
}

// A tracked symbolic link stays a link (e2e/smoke/apk_repo is one); one that leaves the
// repository is refused, naming it.
func TestSourceArchiveSymlinks(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "examples", "repo"), 0o755)
	os.MkdirAll(filepath.Join(dir, "e2e", "smoke"), 0o755)
	os.WriteFile(filepath.Join(dir, "examples", "repo", "key.pub"), []byte("key"), 0o644)
	os.Symlink("../../examples/repo", filepath.Join(dir, "e2e", "smoke", "repo"))
	target, err := linkTarget(dir, "e2e/smoke/repo")
	if err != nil {
		t.Fatal(err)
	}
	files := []trackedFile{{path: "examples/repo/key.pub"}, {path: "e2e/smoke/repo", link: target}}
	b, err := sourceArchive(dir, "p", files, nil)
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := gzip.NewReader(bytes.NewReader(b))
	var got []string
	for h := range entries(t, gz) {
		got = append(got, fmt.Sprintf("%s %c %s %o", h.Name, h.Typeflag, h.Linkname, h.Mode))
	}
	want := "p/e2e/smoke/repo 2 ../../examples/repo 777\np/examples/repo/key.pub 0  644"
	if strings.Join(got, "\n") != want {
		t.Fatalf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	for _, target := range []string{"../../../outside", "/etc/passwd"} {
		os.Remove(filepath.Join(dir, "e2e", "smoke", "repo"))
		os.Symlink(target, filepath.Join(dir, "e2e", "smoke", "repo"))
		_, err := linkTarget(dir, "e2e/smoke/repo")
		want := "source archive: e2e/smoke/repo: a symbolic link to " + target + ", outside the repository, cannot go into the source archive"
		if err == nil || err.Error() != want {
			t.Errorf("link to %s: got %v, want %s", target, err, want)
		}
	}
}

// entries yields each entry of the tar r with its body; a read error fails the test.
func entries(t *testing.T, r io.Reader) iter.Seq2[*tar.Header, []byte] {
	return func(yield func(*tar.Header, []byte) bool) {
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if !yield(h, body) {
				return
			}
		}
	}
}
