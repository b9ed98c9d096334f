package verbs

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFilesAndExplain runs the layer verbs with --listing, then files over their outputs,
// then explain: a file of the first layer that the second replaces names both.
func TestFilesAndExplain(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "os-release")
	if err := os.WriteFile(src, []byte("ID=app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := func(n string) string { return filepath.Join(dir, n) }
	archive := out("base.tar.gz")
	writeTestTar(t, archive, true,
		&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "etc/os-release", Typeflag: tar.TypeReg, Mode: 0o644},
		&tar.Header{Name: "etc/issue", Typeflag: tar.TypeReg, Mode: 0o644})
	if err := tarLayerVerb([]string{"--tar", archive, "--blob", out("0.tar.gz"), "--metadata", out("0.json"), "--listing", out("0.files.json")}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := layerVerb([]string{"--data-file=/etc/os-release=" + src, "--symlink=/etc/issue.net=issue", "--blob", out("1.tar.gz"), "--metadata", out("1.json"), "--listing", out("1.files.json")}); err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(map[string]any{"layers": []map[string]any{
		{"metadata": out("0.json"), "label": "//app:image", "listing": out("0.files.json")},
		{"metadata": out("1.json"), "label": "//app:etc", "listing": out("1.files.json")},
	}})
	if err := filesVerb([]string{"--spec-json", string(spec), "--out", out("files.json")}); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := explainVerb([]string{"--files", out("files.json"), "--image", "//app:image", "/etc/os-release", "/etc/issue.net"}, &log); err != nil {
		t.Fatal(err)
	}
	got := log.String()
	for _, want := range []string{"/etc/os-release (file 0644)\n  from layer 1 (sha256:", "): //app:etc\n  replaced layer 0 (sha256:", "): //app:image\n/etc/issue.net", "  symlink to issue (resolves to /etc/issue, from layer 0"} {
		if !strings.Contains(got, want) {
			t.Errorf("explain printed:\n%s\nwant it to contain %q", got, want)
		}
	}
	err := explainVerb([]string{"--files", out("files.json"), "--image", "//app:image", "/etc/os_release"}, &bytes.Buffer{})
	if want := "//app:image:\n/etc/os_release is not in the image; did you mean /etc/os-release?"; err == nil || err.Error() != want {
		t.Errorf("missing path: %v, want %q", err, want)
	}
	if err := explainVerb([]string{"--files", out("files.json")}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "name at least one path") {
		t.Errorf("no path: %v", err)
	}
	// A spec naming a layer whose listing was not written fails naming the file, and no
	// document is left.
	spec, _ = json.Marshal(map[string]any{"layers": []map[string]any{{"metadata": out("0.json"), "listing": out("nope.json")}}})
	err = filesVerb([]string{"--spec-json", string(spec), "--out", out("bad.json")})
	if err == nil || !strings.Contains(err.Error(), out("nope.json")) {
		t.Errorf("missing listing: %v", err)
	}
	if _, serr := os.Stat(out("bad.json")); !os.IsNotExist(serr) {
		t.Errorf("a failed files run left %s", out("bad.json"))
	}
}
