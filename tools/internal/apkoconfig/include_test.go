package apkoconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Nested includes are found relative to the top configuration's directory, as apko finds
// them relative to where it runs; the checksum's bytes are the files' in reading order.
func TestIncludeMerges(t *testing.T) {
	top := "include: conf/mid.yaml\ncontents:\n  packages: [top]\nenvironment: {B: top}\ncmd: top\n"
	mid := "include: conf/base.yaml\ncontents:\n  packages: [mid]\narchs: [aarch64]\nenvironment: {A: mid, B: mid}\nvcs-url: https://mid\n"
	base := "contents:\n  repositories: [https://r/]\n  packages: [base]\narchs: [x86_64]\ncmd: base\nwork-dir: /base\n"
	dir := writeFiles(t, map[string]string{"apko.yaml": top, "conf/mid.yaml": mid, "conf/base.yaml": base})
	c, data, err := LoadFiles(filepath.Join(dir, "apko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"base", "mid", "top"}; !reflect.DeepEqual(c.Contents.Packages, want) {
		t.Errorf("packages %q, want %q", c.Contents.Packages, want)
	}
	if !reflect.DeepEqual(c.Environment, map[string]string{"A": "mid", "B": "top"}) || c.Cmd != "top" || c.WorkDir != "/base" {
		t.Errorf("environment %v, cmd %q, work-dir %q", c.Environment, c.Cmd, c.WorkDir)
	}
	if len(c.Archs) != 1 || c.Archs[0] != "aarch64" || c.VCSURL != "" || c.Contents.Repositories[0] != "https://r" {
		t.Errorf("archs %v, vcs-url %q (apko merges none), repositories %v", c.Archs, c.VCSURL, c.Contents.Repositories)
	}
	if string(data) != top+mid+base {
		t.Errorf("checksum bytes %q", data)
	}
}

func TestIncludeErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing", map[string]string{"apko.yaml": "include: gone.yaml\n"}, "apko.yaml: include gone.yaml: open DIR/gone.yaml: no such file or directory (with Bazel: list it in apko_config_includes of the image, config_includes of apk_lock)"},
		{"cycle", map[string]string{"apko.yaml": "include: a.yaml\n", "a.yaml": "include: apko.yaml\n"}, "a.yaml: include apko.yaml: it is already being read"},
		{"bad included key", map[string]string{"apko.yaml": "include: a.yaml\n", "a.yaml": "contents:\n  pkgs: [x]\n"}, "apko.yaml: include a.yaml: " + "DIR/a.yaml: yaml: unmarshal errors:\n  line 2: unknown key pkgs (in contents)"},
		{"merged config checked", map[string]string{"apko.yaml": "include: a.yaml\n", "a.yaml": "archs: [sparc]\n"}, `apko.yaml: archs: unsupported architecture "sparc"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			_, err := Load(filepath.Join(dir, "apko.yaml"))
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want %q", err, want)
			}
		})
	}
}
