package atomicfile

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// When WHARF_ATOMICFILE_CHILD names a destination, the test binary is a writer that a
// test kills with SIGKILL halfway through: it starts the output, says so, and waits.
func TestMain(m *testing.M) {
	if dir := os.Getenv("WHARF_ATOMICFILE_SET"); dir != "" {
		var s Set
		s.WriteFile(filepath.Join(dir, "blob"), []byte("b"))
		s.WriteFile(filepath.Join(dir, "metadata"), []byte("m"))
		betweenRenames = func() {
			os.Stdout.WriteString("started\n")
			select {}
		}
		s.Commit()
		os.Exit(1)
	}
	if dest := os.Getenv("WHARF_ATOMICFILE_CHILD"); dest != "" {
		var err error
		if os.Getenv("WHARF_ATOMICFILE_DIR") != "" {
			var d *Dir
			if d, err = CreateDir(dest); err == nil {
				err = os.WriteFile(filepath.Join(d.Path, "half"), []byte("trunc"), 0o644)
			}
		} else {
			var f *File
			if f, err = Create(dest); err == nil {
				_, err = f.WriteString("trunc")
			}
		}
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("started\n")
		select {}
	}
	os.Exit(m.Run())
}

// killMidWrite runs a writer of dest and SIGKILLs it once it has started.
func killMidWrite(t *testing.T, dest string, dir bool) {
	t.Helper()
	env := []string{"WHARF_ATOMICFILE_CHILD=" + dest}
	if dir {
		env = append(env, "WHARF_ATOMICFILE_DIR=1")
	}
	killChild(t, env)
}

// killChild runs the test binary as a writer with env and SIGKILLs it once it has started.
func killChild(t *testing.T, env []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	cmd.Process.Kill()
	cmd.Wait()
	if line != "started\n" {
		t.Fatalf("writer said %q", line)
	}
}

func TestKilledRunDebrisIsRemovedByTheNextRun(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "layer[1].tar.gz") // glob metacharacters in the name
	other := filepath.Join(dir, ".other.tmp-123") // another output's temporary stays
	os.WriteFile(other, nil, 0o644)
	killMidWrite(t, dest, false)
	if got := listDir(t, dir); len(got) != 2 {
		t.Fatalf("after SIGKILL the directory holds %v, want the other file and one temporary", got)
	} else {
		t.Logf("debris of the killed run: %v", got)
	}
	if err := WriteFile(dest, []byte("whole")); err != nil {
		t.Fatal(err)
	}
	if got, want := listDir(t, dir), []string{".other.tmp-123", "layer[1].tar.gz"}; !slices.Equal(got, want) {
		t.Fatalf("after the next run the directory holds %v, want %v", got, want)
	}
}

func TestKilledDirectoryRunDebrisIsRemovedByTheNextRun(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "layout")
	killMidWrite(t, dest, true)
	d, err := CreateDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d.Path, "index.json"), []byte("{}"), 0o644)
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"layout"}) {
		t.Fatalf("directory holds %v, want only the output", got)
	}
	if got := listDir(t, dest); !slices.Equal(got, []string{"index.json"}) {
		t.Fatalf("output holds %v", got)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o755 {
		t.Errorf("output mode %v, want 0755", fi.Mode().Perm())
	}
}

func TestDirReplacesOnlyAMissingOrEmptyDestination(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(dest string)
		wantErr string
	}{
		{"missing", func(string) {}, ""},
		{"empty directory (as Bazel makes it)", func(dest string) { os.Mkdir(dest, 0o755) }, ""},
		{"directory with a user's file", func(dest string) {
			os.Mkdir(dest, 0o755)
			os.WriteFile(filepath.Join(dest, "keep.txt"), []byte("mine"), 0o644)
		}, "it exists and is not an empty directory; it was left as it is"},
		{"a file", func(dest string) { os.WriteFile(dest, []byte("mine"), 0o644) }, "it exists and is not an empty directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "out")
			tc.prepare(dest)
			before, _ := os.ReadFile(filepath.Join(dest, "keep.txt"))
			d, err := CreateDir(dest)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(d.Path, "new"), nil, 0o644)
			err = d.Commit()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := listDir(t, dest); !slices.Equal(got, []string{"new"}) {
					t.Fatalf("output holds %v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Commit: %v, want %q", err, tc.wantErr)
			}
			t.Logf("message: %v", err)
			if got := listDir(t, filepath.Dir(dest)); !slices.Equal(got, []string{"out"}) {
				t.Fatalf("parent holds %v, want the user's out alone", got)
			}
			if after, _ := os.ReadFile(filepath.Join(dest, "keep.txt")); string(after) != string(before) {
				t.Fatalf("the user's file changed: %q", after)
			}
		})
	}
}

func TestDirAbortLeavesTheDestinationAlone(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "out")
	os.Mkdir(dest, 0o755)
	os.WriteFile(filepath.Join(dest, "keep.txt"), []byte("mine"), 0o644)
	d, err := CreateDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	d.Abort()
	if got := listDir(t, filepath.Dir(dest)); !slices.Equal(got, []string{"out"}) {
		t.Fatalf("parent holds %v", got)
	}
	if got := listDir(t, dest); !slices.Equal(got, []string{"keep.txt"}) {
		t.Fatalf("destination holds %v", got)
	}
}

func TestSetCommitsInOrderAndUndoesOnFailure(t *testing.T) {
	dir := t.TempDir()
	var s Set
	s.WriteFile(filepath.Join(dir, "blob"), []byte("b"))
	// A directory in the way makes the second rename fail.
	os.Mkdir(filepath.Join(dir, "meta"), 0o755)
	os.WriteFile(filepath.Join(dir, "meta", "x"), nil, 0o644)
	s.WriteFile(filepath.Join(dir, "meta"), []byte("m"))
	if err := s.Commit(); err == nil {
		t.Fatal("Commit succeeded over a non-empty directory")
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"meta"}) {
		t.Fatalf("after a failed commit the directory holds %v, want only what was there", got)
	}
}

// TestSetKilledBetweenRenames: a set is published in the order its files were added, so a
// run killed between the renames of blob and metadata leaves the blob alone (which nothing
// reads without its metadata), never metadata describing a blob that is not there.
func TestSetKilledBetweenRenames(t *testing.T) {
	dir := t.TempDir()
	killChild(t, []string{"WHARF_ATOMICFILE_SET=" + dir})
	if _, err := os.Stat(filepath.Join(dir, "metadata")); err == nil {
		t.Fatal("metadata was published before its blob")
	}
	if _, err := os.Stat(filepath.Join(dir, "blob")); err != nil {
		t.Fatalf("the first file of the set was not published first: %v", err)
	}
	// The next run removes the killed run's temporary of the metadata.
	if err := WriteFile(filepath.Join(dir, "metadata"), []byte("m")); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"blob", "metadata"}) {
		t.Fatalf("directory holds %v", got)
	}
}

// "out/" is out (#26 item 18): the slash made the temporary's parent out itself.
func TestDirWithTrailingSlash(t *testing.T) {
	dir := t.TempDir()
	d, err := CreateDir(filepath.Join(dir, "out") + "/")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d.Path, "new"), nil, 0o644)
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"out"}) {
		t.Fatalf("parent holds %v", got)
	}
	if got := listDir(t, filepath.Join(dir, "out")); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("output holds %v", got)
	}
}

// An aborted directory output leaves none of the parents it made; one that existed stays.
func TestDirAbortRemovesTheParentsItMade(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "a"), 0o755)
	d, err := CreateDir(filepath.Join(dir, "a", "b", "c", "out"))
	if err != nil {
		t.Fatal(err)
	}
	d.Abort()
	if got := listDir(t, filepath.Join(dir, "a")); len(got) != 0 {
		t.Fatalf("a holds %v, want nothing", got)
	}
}

// In a user's workspace a file named like a temporary is the user's: WriteWorkspaceFile
// leaves it, and removes only its own temporary.
func TestWorkspaceFileKeepsTheUsersLookalikes(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "apko.lock.json")
	mine := filepath.Join(dir, ".apko.lock.json.tmp-notes")
	if err := os.WriteFile(mine, []byte("the user's"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteWorkspaceFile(dest, []byte("lock")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(mine); err != nil || string(b) != "the user's" {
		t.Fatalf("the user's %s: %q, %v", mine, b, err)
	}
	if got, want := listDir(t, dir), []string{".apko.lock.json.tmp-notes", "apko.lock.json"}; !slices.Equal(got, want) {
		t.Fatalf("directory holds %v, want %v", got, want)
	}
	if b, _ := os.ReadFile(dest); string(b) != "lock" {
		t.Fatalf("dest holds %q", b)
	}
}
