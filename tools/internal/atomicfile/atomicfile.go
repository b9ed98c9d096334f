// Package atomicfile writes outputs so that a failed or killed verb leaves nothing behind:
// data goes to a temporary file (or directory) beside the destination and is renamed into
// place only on Commit.
//
// Temporaries are named ".NAME.tmp-NNN". A run killed by SIGKILL cannot remove its own, so
// Create removes the temporaries an earlier run left for the same destination first: Bazel
// runs one action per output at a time, so any temporary of that output is stale. Without a
// sandbox (workers, `--spawn_strategy=local`) they would otherwise pile up beside outputs,
// and inside a directory output they would become part of the tree. That reasoning holds
// for Bazel's output tree only: WriteWorkspaceFile, for files in a user's workspace, leaves
// every other file alone.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tmpPattern is the os.CreateTemp / os.MkdirTemp pattern of dest's temporaries.
func tmpPattern(dest string) string { return "." + filepath.Base(dest) + ".tmp-*" }

// removeStale removes temporaries a killed run left for dest: the entries of its directory
// named as tmpPattern names them.
func removeStale(dest string) {
	dir := filepath.Dir(dest)
	prefix := strings.TrimSuffix(tmpPattern(dest), "*")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// File is an output being written. Call Commit to publish it or Abort to discard it;
// Abort after Commit is a no-op, so `defer f.Abort()` is always safe.
type File struct {
	*os.File
	dest string
	done bool
}

// Create starts writing dest, an output in Bazel's output tree. Its mode is 0644
// regardless of umask.
func Create(dest string) (*File, error) { return create(dest, true) }

// create starts writing dest, first removing stale temporaries of it when clean is set.
func create(dest string, clean bool) (*File, error) {
	dest = filepath.Clean(dest)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, err
	}
	if clean {
		removeStale(dest)
	}
	f, err := os.CreateTemp(filepath.Dir(dest), tmpPattern(dest))
	if err != nil {
		return nil, err
	}
	return &File{File: f, dest: dest}, nil
}

// Commit flushes, closes and renames the file into place.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	if err := f.File.Chmod(0o644); err != nil {
		f.File.Close()
		os.Remove(f.File.Name())
		return err
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	if err := os.Rename(f.File.Name(), f.dest); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("publishing %s: %w", f.dest, err)
	}
	return nil
}

// Abort discards the file.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes data to dest, an output in Bazel's output tree, atomically.
func WriteFile(dest string, data []byte) error { return writeFile(dest, data, true) }

// WriteWorkspaceFile writes data to dest atomically without removing anything but its own
// temporary: dest is in a user's workspace (`bazel run` writes a lock there), where a file
// named like a temporary is the user's, not a killed run's.
func WriteWorkspaceFile(dest string, data []byte) error { return writeFile(dest, data, false) }

func writeFile(dest string, data []byte, clean bool) error {
	f, err := create(dest, clean)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}

// betweenRenames, in tests, stops a Set's Commit where a SIGKILL could.
var betweenRenames func()

// Set is a group of outputs published together: if any fails, none is left behind. Commit
// renames them in the order they were added, so add the file that describes the others
// (layer metadata, a descriptor) last: a run killed between two renames then leaves a blob
// without its description, which nothing reads, never a description of a missing blob.
type Set struct{ files []*File }

// Create adds a new output to the set.
func (s *Set) Create(dest string) (*File, error) {
	f, err := Create(dest)
	if err != nil {
		return nil, err
	}
	s.files = append(s.files, f)
	return f, nil
}

// WriteFile adds an output with the given content.
func (s *Set) WriteFile(dest string, data []byte) error {
	f, err := s.Create(dest)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return err
}

// Commit publishes every output in the order added; on error it removes those already
// published.
func (s *Set) Commit() error {
	for i, f := range s.files {
		if i > 0 && betweenRenames != nil {
			betweenRenames()
		}
		if err := f.Commit(); err != nil {
			for _, g := range s.files[:i] {
				os.Remove(g.dest)
			}
			s.Abort()
			return err
		}
	}
	return nil
}

// Abort discards every output not yet committed.
func (s *Set) Abort() {
	for _, f := range s.files {
		f.Abort()
	}
}

// Dir is a directory output being filled: Path is a temporary directory beside the
// destination, renamed into place by Commit.
type Dir struct {
	Path string
	dest string
	made []string // parents CreateDir made, deepest first
	done bool
}

// CreateDir starts a directory output at dest. dest may exist only as an empty directory
// (Bazel creates a tree artifact's directory before the action runs); anything else there is
// left alone and reported at Commit, never removed. "DIR/" is DIR: with the slash, DIR was
// taken for the temporary's parent and made, and the commit then refused it as not empty.
// A failure removes the parents CreateDir made.
func CreateDir(dest string) (*Dir, error) {
	dest = filepath.Clean(dest)
	made, err := mkdirParents(filepath.Dir(dest))
	if err != nil {
		return nil, err
	}
	d := &Dir{dest: dest, made: made}
	removeStale(dest)
	tmp, err := os.MkdirTemp(filepath.Dir(dest), tmpPattern(dest))
	if err != nil {
		d.removeMade()
		return nil, err
	}
	d.Path = tmp
	// MkdirTemp makes 0700; an output directory is 0755 whatever the umask.
	if err := os.Chmod(tmp, 0o755); err != nil {
		d.Abort()
		return nil, err
	}
	return d, nil
}

// mkdirParents makes dir and its missing parents, returning those it made, deepest first.
func mkdirParents(dir string) ([]string, error) {
	var missing []string
	for p := dir; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil || filepath.Dir(p) == p {
			break
		}
		missing = append(missing, p)
	}
	return missing, os.MkdirAll(dir, 0o755)
}

// removeMade removes the parents CreateDir made; one that is no longer empty stays.
func (d *Dir) removeMade() {
	for _, p := range d.made {
		if os.Remove(p) != nil {
			return
		}
	}
}

// Commit replaces the (missing or empty) destination by the filled directory.
func (d *Dir) Commit() error {
	if d.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	d.done = true
	// Remove fails on a non-empty directory, so nothing of anyone else's goes.
	if fi, err := os.Lstat(d.dest); err == nil {
		if !fi.IsDir() || os.Remove(d.dest) != nil {
			os.RemoveAll(d.Path)
			d.removeMade()
			return fmt.Errorf("publishing %s: it exists and is not an empty directory; it was left as it is", d.dest)
		}
	}
	if err := os.Rename(d.Path, d.dest); err != nil {
		os.RemoveAll(d.Path)
		d.removeMade()
		return fmt.Errorf("publishing %s: %w", d.dest, err)
	}
	return nil
}

// Abort discards the temporary directory; the destination is untouched.
func (d *Dir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.Path)
	d.removeMade()
}
