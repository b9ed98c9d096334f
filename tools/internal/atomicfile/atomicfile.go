// Package atomicfile writes outputs so that a failed verb leaves nothing behind: data goes
// to a temporary file beside the destination and is renamed into place only on Commit.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File is an output being written. Call Commit to publish it or Abort to discard it;
// Abort after Commit is a no-op, so `defer f.Abort()` is always safe.
type File struct {
	*os.File
	dest string
	done bool
}

// Create starts writing dest. Its mode is 0644 regardless of umask.
func Create(dest string) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp*")
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

// WriteFile writes data to dest atomically.
func WriteFile(dest string, data []byte) error {
	f, err := Create(dest)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}

// Set is a group of outputs published together: if any fails, none is left behind.
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

// Commit publishes every output; on error it removes those already published.
func (s *Set) Commit() error {
	for i, f := range s.files {
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
