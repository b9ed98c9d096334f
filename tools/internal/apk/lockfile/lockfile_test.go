package lockfile

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

// apko's shape: version, config, contents{keyring, build_repositories, runtime_repositories,
// repositories, packages{name, url, version, architecture, signature, control, data,
// checksum}}, two-space indent, trailing newline.
const apkoShape = `{
  "version": "v1",
  "config": {
    "name": "apko.yaml",
    "checksum": "sha256-eal7+HCFuOLz/8m3vNO5cYyNK0Zw7AphCcsc76TbTXg="
  },
  "contents": {
    "keyring": [
      {
        "name": "./keys/a.rsa.pub",
        "url": "./keys/a.rsa.pub"
      }
    ],
    "build_repositories": [],
    "runtime_repositories": [],
    "repositories": [
      {
        "name": "./packages/x86_64",
        "url": "./packages/x86_64/APKINDEX.tar.gz",
        "architecture": "x86_64"
      }
    ],
    "packages": [
      {
        "name": "a",
        "url": "./packages/x86_64/a-1.0.0-r0.apk",
        "version": "1.0.0-r0",
        "architecture": "x86_64",
        "signature": {
          "range": "bytes=0-648",
          "checksum": "sha1-V+Htugmm+Ru2ogsWm7VgD4A1DsQ="
        },
        "control": {
          "range": "bytes=649-1562",
          "checksum": "sha1-DRtLIHolxOMB++9L4ZjkeUFaKYc="
        },
        "data": {
          "range": "bytes=1563-2767",
          "checksum": "sha256-dZB1iTdQ2sfndKG6Ohf5VwWFjqz6kjSzZbqYU17BSRM="
        },
        "checksum": "Q1DRtLIHolxOMB++9L4ZjkeUFaKYc="
      }
    ]
  }
}
`

func TestRoundTripIsByteIdentical(t *testing.T) {
	l, err := Parse([]byte(apkoShape))
	if err != nil {
		t.Fatal(err)
	}
	if l.Config == nil || l.Config.Name != "apko.yaml" || len(l.Contents.Packages) != 1 || l.Contents.Packages[0].Data.Range != "bytes=1563-2767" {
		t.Fatalf("parsed %+v", l)
	}
	out, err := Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != apkoShape {
		t.Fatalf("Marshal differs from apko's shape:\n%s", out)
	}
}

// The committed example lock parses and is written back as is.
func TestExampleLock(t *testing.T) {
	b, err := os.ReadFile(srctree.Path(t, "examples/hello_image/apko.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Archs(); !reflect.DeepEqual(got, []string{"x86_64", "aarch64"}) {
		t.Fatalf("archs %v", got)
	}
	out, err := Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, b) {
		t.Fatalf("example lock does not round-trip:\n%s", out)
	}
}

// Older shapes: no config, no checksum (before apko 0.13), no build/runtime repositories,
// keyring with embedded content, repository names without the architecture.
func TestOlderShapes(t *testing.T) {
	old := `{"contents": {
	  "keyring": [{"name": "k.rsa.pub", "content": "-----BEGIN PUBLIC KEY-----\n..."}],
	  "repositories": [{"name": "https://r.example/main", "url": "https://r.example/main/x86_64/APKINDEX.tar.gz", "architecture": "x86_64"}],
	  "packages": [{"name": "a", "url": "https://r.example/main/x86_64/a-1-r0.apk", "version": "1-r0", "architecture": "x86_64",
	    "signature": {"range": "", "checksum": ""}, "control": {"range": "bytes=0-9", "checksum": "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
	    "data": {"range": "bytes=10-19", "checksum": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}]}}`
	l, err := Parse([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != "v1" || l.Config != nil || l.Contents.Packages[0].Checksum != "" || KeyName(l.Contents.Keyring[0]) != "k.rsa.pub" {
		t.Fatalf("parsed %+v", l)
	}
	if RepoBase(l.Contents.Repositories[0]) != "https://r.example/main" {
		t.Fatal(RepoBase(l.Contents.Repositories[0]))
	}
	// apko 0.13-0.16 wrote the installed size as the data range's end.
	if _, err := Parse([]byte(strings.Replace(old, `"bytes=10-19"`, `"bytes=10-4"`, 1))); err != nil {
		t.Errorf("a data range ending before its start: %v", err)
	}
	// Alpine's key URLs escape the @ of the name signatures use.
	if n := KeyName(Keyring{URL: "https://alpinelinux.org/keys/alpine-devel%40lists.alpinelinux.org-6165ee59.rsa.pub"}); n != "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub" {
		t.Errorf("KeyName = %s", n)
	}
	if RepoBase(Repo{Name: "./p/x86_64", Architecture: "x86_64"}) != "./p" {
		t.Fatal("RepoBase does not strip the architecture")
	}
}

// The cases of repository_line in apk/private/tests/lock_test.bzl.
func TestRepositoryLine(t *testing.T) {
	for _, c := range []struct {
		r    Repo
		want string
	}{
		{Repo{"packages.wolfi.dev/os/x86_64", "https://packages.wolfi.dev/os/x86_64/APKINDEX.tar.gz", "x86_64"}, "https://packages.wolfi.dev/os"},
		{Repo{"./testdata/packages/aarch64", "./testdata/packages/aarch64/APKINDEX.tar.gz", "aarch64"}, "./testdata/packages"},
		{Repo{"@local https://apk.example.com/repo/x86_64", "@local https://apk.example.com/repo/x86_64/APKINDEX.tar.gz", "x86_64"}, "@local https://apk.example.com/repo"},
		{Repo{"@local apk.example.com/repo/x86_64", "https://apk.example.com/repo/x86_64/APKINDEX.tar.gz", "x86_64"}, "@local https://apk.example.com/repo"},
		{Repo{"https://apk.example.com/repo/x86_64", "", "x86_64"}, "https://apk.example.com/repo"},
		{Repo{"alice:s3cr3t@apk.example.com/repo/x86_64", "https://alice:s3cr3t@apk.example.com/repo/x86_64/APKINDEX.tar.gz", "x86_64"}, "https://apk.example.com/repo"},
	} {
		if got := RepositoryLine(c.r); got != c.want {
			t.Errorf("RepositoryLine(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
}
