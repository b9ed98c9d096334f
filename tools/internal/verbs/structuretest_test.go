package verbs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// structureImage writes a one-layer image (a layer by the layer verb, a config) and a CST
// file, and returns the structure-test arguments for them.
func structureImage(t *testing.T, yaml string) []string {
	t.Helper()
	d := t.TempDir()
	src := filepath.Join(d, "hello.txt")
	os.WriteFile(src, []byte("hello, world\n"), 0o644)
	blob, meta := filepath.Join(d, "layer.tar.gz"), filepath.Join(d, "layer.json")
	if err := layerVerb([]string{"--blob", blob, "--metadata", meta, "--data-file=/etc/hello.txt=" + src, "--mode=/etc/hello.txt=4755"}); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(d, "config.json")
	os.WriteFile(config, []byte(`{"os":"linux","architecture":"amd64","config":{"User":"root"},"rootfs":{"type":"layers","diff_ids":[]}}`), 0o644)
	cst := filepath.Join(d, "cst.yaml")
	os.WriteFile(cst, []byte("schemaVersion: 2.0.0\n"+yaml), 0o644)
	return []string{"--config", cst, "--image-config", config, "--layer", blob + "=" + meta}
}

func TestStructureTestVerb(t *testing.T) {
	args := structureImage(t, "fileContentTests: [{name: hello, path: /etc/hello.txt, expectedContents: ['^hello']}]\n")
	var log bytes.Buffer
	if err := structureTestVerb(args, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "=== PASS: File Content Test: hello") {
		t.Errorf("report:\n%s", log.String())
	}
	log.Reset()
	err := structureTestVerb(append(args, "--non-root", "--no-setuid", "--forbidden-path=/etc/hello.txt"), &log)
	if err == nil || !strings.Contains(err.Error(), "structure test failed: 3 of 4 checks failed") {
		t.Errorf("with policy: %v", err)
	}
	for _, want := range []string{`config field User is "root", which runs as root (uid 0): rule non_root`,
		"/etc/hello.txt is urwxr-xr-x (setuid/setgid): rule no_setuid", "/etc/hello.txt is in the image (urwxr-xr-x): rule forbidden_paths"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, log.String())
		}
	}
}

func TestStructureTestVerbRefuses(t *testing.T) {
	args := structureImage(t, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", "x.yaml"}, "missing required flag --image-config"},
		{append(args, "--allowed-base-digest=sha256:aa"), "--allowed-base-digest needs --base-digest and --base-config"},
		{append(args, "--layer=nometa"), `--layer "nometa": want BLOB=METADATA`},
		{append(args, "--config=/nonexistent.yaml"), "/nonexistent.yaml"},
	} {
		err := structureTestVerb(c.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
