package stamp

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadStatusLaterFileWins(t *testing.T) {
	dir := t.TempDir()
	stable := filepath.Join(dir, "stable-status.txt")
	volatile := filepath.Join(dir, "volatile-status.txt")
	os.WriteFile(stable, []byte("STABLE_GIT_COMMIT abc123\nBUILD_EMBED_LABEL 1.2 beta\nEMPTY\n"), 0o644)
	os.WriteFile(volatile, []byte("BUILD_TIMESTAMP 1700000000\nSTABLE_GIT_COMMIT other\n"), 0o644)
	got, err := ReadStatus(volatile, stable)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"STABLE_GIT_COMMIT": "abc123", "BUILD_EMBED_LABEL": "1.2 beta", "EMPTY": "", "BUILD_TIMESTAMP": "1700000000"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestReadStatusMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.txt")
	_, err := ReadStatus(p)
	if err == nil || err.Error() != "workspace status: open "+p+": no such file or directory" {
		t.Fatalf("err = %v", err)
	}
}

func TestExpand(t *testing.T) {
	status := map[string]string{"A": "1", "B": "two"}
	got, err := Expand("x-{A}-{B}-{A}", status)
	if err != nil || got != "x-1-two-1" {
		t.Fatalf("got %q, %v", got, err)
	}
	_, err = Expand("v{A}{NOPE}", status)
	if err == nil || err.Error() != "the workspace status has no key NOPE (keys: A, B)" {
		t.Fatalf("err = %v", err)
	}
	if !Has("{A}") || Has("{1}") || Has("plain") || Blank("a{B}c", "x") != "axc" {
		t.Fatal("Has/Blank")
	}
}
