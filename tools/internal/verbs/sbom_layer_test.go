package verbs

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSbomLayerAndImage(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.txt")
	meta := filepath.Join(dir, "layer.json")
	os.WriteFile(src, []byte("a\n"), 0o644)
	os.WriteFile(meta, []byte(`{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:`+strings.Repeat("ab", 32)+`","size":1,"diffID":"sha256:`+strings.Repeat("cd", 32)+`"}`), 0o644)
	part, spdx, cdx := filepath.Join(dir, "part.json"), filepath.Join(dir, "i.spdx.json"), filepath.Join(dir, "i.cdx.json")
	run := func(verb string, args ...string) error { return All()[verb].Run(args, io.Discard) }
	if err := run("sbom-layer", "--label=//a:layer", "--file=/etc/a.txt\t"+src+"\t//a:a.txt\tsource", "--out", part); err != nil {
		t.Fatal(err)
	}
	if err := run("sbom", "--name=//a:image", "--layer="+meta+"="+part, "--out", spdx, "--cyclonedx", cdx); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{spdx, cdx} {
		if b, err := os.ReadFile(f); err != nil || !strings.Contains(string(b), "/etc/a.txt") {
			t.Errorf("%s: lacks /etc/a.txt (%v)", f, err)
		}
	}
	for _, c := range []struct {
		verb string
		args []string
		want string
	}{
		{"sbom-layer", []string{"--label=//a:layer", "--file=/etc/a.txt\t" + src, "--out", part}, `--file "/etc/a.txt\t` + src + `": want 4 tab-separated fields, got 2`},
		{"sbom-layer", []string{"--label=//a:layer", "--go-package=/bin/x\tex.com/p", "--out", part}, `--go-package "/bin/x\tex.com/p": want 3 tab-separated fields, got 2`},
		{"sbom-layer", []string{"--label=//a:layer", "--go-mod", filepath.Join(dir, "none.mod"), "--out", part}, "none.mod: no such file"},
		{"sbom", []string{"--name=//a:image", "--layer=" + part, "--out", spdx}, `--layer "` + part + `": want METADATA=PART`},
		{"sbom", []string{"--name=//a:image", "--layer=" + meta + "=" + src, "--out", filepath.Join(dir, "x.spdx.json"), "--cyclonedx", filepath.Join(dir, "x.cdx.json")}, "layer SBOM part " + src + ": "},
	} {
		err := run(c.verb, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: want an error with %q, got %v", c.verb, c.args, c.want, err)
		}
	}
	// A failed run leaves neither document.
	for _, f := range []string{"x.spdx.json", "x.cdx.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s left behind", f)
		}
	}
}
