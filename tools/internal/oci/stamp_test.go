package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var status = map[string]string{"BUILD_TIMESTAMP": "1700000000", "STABLE_GIT_COMMIT": "abc123", "BUILD_EMBED_LABEL": "1.2.3"}

func TestStampExpandsLabelsAnnotationsCreated(t *testing.T) {
	sf := &SpecFile{
		Labels:      map[string]string{"org.opencontainers.image.revision": "{STABLE_GIT_COMMIT}", "plain": "x"},
		Annotations: map[string]string{"org.opencontainers.image.version": "v{BUILD_EMBED_LABEL}"},
		Created:     "{BUILD_TIMESTAMP}",
	}
	if err := sf.Stamp(status); err != nil {
		t.Fatal(err)
	}
	if sf.Labels["org.opencontainers.image.revision"] != "abc123" || sf.Labels["plain"] != "x" {
		t.Errorf("labels = %v", sf.Labels)
	}
	if sf.Annotations["org.opencontainers.image.version"] != "v1.2.3" {
		t.Errorf("annotations = %v", sf.Annotations)
	}
	if sf.Created != "2023-11-14T22:13:20Z" {
		t.Errorf("created = %q", sf.Created)
	}
	spec, err := sf.ImageSpec()
	if err != nil || spec.Created.Unix() != 1700000000 {
		t.Fatalf("ImageSpec: %v, %v", spec, err)
	}
}

func TestStampUnstampedKeepsLabelsAndEpoch(t *testing.T) {
	sf := &SpecFile{Labels: map[string]string{"rev": "{STABLE_GIT_COMMIT}"}, Created: "{BUILD_TIMESTAMP}"}
	if err := sf.Stamp(nil); err != nil {
		t.Fatal(err)
	}
	if sf.Labels["rev"] != "{STABLE_GIT_COMMIT}" || sf.Created != "" {
		t.Errorf("got labels %v, created %q", sf.Labels, sf.Created)
	}
	spec, err := sf.ImageSpec()
	if err != nil || spec.Created.Unix() != 0 {
		t.Fatalf("ImageSpec: %v, %v", spec, err)
	}
}

func TestStampMissingKey(t *testing.T) {
	for _, c := range []struct {
		sf   SpecFile
		want string
	}{
		{SpecFile{Labels: map[string]string{"rev": "{GIT}"}}, `label rev = "{GIT}": the workspace status has no key GIT (keys: BUILD_EMBED_LABEL, BUILD_TIMESTAMP, STABLE_GIT_COMMIT)`},
		{SpecFile{Annotations: map[string]string{"a": "x{NOPE}"}}, `annotation a = "x{NOPE}": the workspace status has no key NOPE`},
		{SpecFile{Created: "{WHEN}"}, `created "{WHEN}": the workspace status has no key WHEN`},
	} {
		err := c.sf.Stamp(status)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("err = %v, want %s…", err, c.want)
		}
	}
}

func TestReadKeyValues(t *testing.T) {
	p := filepath.Join(t.TempDir(), "labels.txt")
	os.WriteFile(p, []byte("# comment\n\na=1\n b = x=y\n"), 0o644)
	kv, err := ReadKeyValues(p)
	if err != nil || len(kv) != 2 || kv["a"] != "1" || kv["b"] != " x=y" {
		t.Fatalf("got %q, %v", kv, err)
	}
	os.WriteFile(p, []byte("a=1\nnot a pair\n"), 0o644)
	if _, err := ReadKeyValues(p); err == nil || err.Error() != p+`:2: "not a pair" is not KEY=VALUE` {
		t.Fatalf("err = %v", err)
	}
}
