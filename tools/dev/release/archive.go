package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// archiveTime is every entry's mtime: the commit's files, not when they were checked out.
var archiveTime = time.Unix(0, 0)

// sourceArchive writes files of root (replaced by replace[path] where given; every key must
// be one of files) as a gzip tar under prefix/: entries sorted by path, mode 0644 or 0755 as
// git records it (symbolic links as links, 0777), owner 0 without names, mtime archiveTime,
// no gzip name or time.
func sourceArchive(root, prefix string, files []trackedFile, replace map[string][]byte) ([]byte, error) {
	sorted := append([]trackedFile(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].path < sorted[j].path })
	used := map[string]bool{}
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, f := range sorted {
		if f.link != "" {
			if err := writeSymlink(tw, prefix, f); err != nil {
				return nil, err
			}
			continue
		}
		content, ok := replace[f.path]
		if ok {
			used[f.path] = true
		} else if content, err = os.ReadFile(filepath.Join(root, f.path)); err != nil {
			return nil, fmt.Errorf("source archive: %w", err)
		}
		mode := int64(0o644)
		if f.executable {
			mode = 0o755
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     prefix + "/" + f.path,
			Mode:     mode,
			Size:     int64(len(content)),
			ModTime:  archiveTime,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("source archive: %s: %w", f.path, err)
		}
		if _, err := tw.Write(content); err != nil {
			return nil, fmt.Errorf("source archive: %s: %w", f.path, err)
		}
	}
	for path := range replace {
		if !used[path] {
			return nil, fmt.Errorf("source archive: %s is not tracked in %s (the release replaces it, so it must exist)", path, root)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeSymlink writes the link f as a symlink entry; trackedFiles checked its target.
func writeSymlink(tw *tar.Writer, prefix string, f trackedFile) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeSymlink,
		Name:     prefix + "/" + f.path,
		Linkname: filepath.ToSlash(f.link),
		Mode:     0o777,
		ModTime:  archiveTime,
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("source archive: %s: %w", f.path, err)
	}
	return nil
}

// linkTarget reads the link at path of root; a target that is absolute or leaves root is
// an error naming the link: inside, any extractor gives it the same meaning.
func linkTarget(root, path string) (string, error) {
	target, err := os.Readlink(filepath.Join(root, path))
	if err != nil {
		return "", fmt.Errorf("source archive: %w", err)
	}
	resolved := filepath.ToSlash(filepath.Join(filepath.Dir(path), target))
	if filepath.IsAbs(target) || resolved == ".." || strings.HasPrefix(resolved, "../") {
		return "", fmt.Errorf("source archive: %s: a symbolic link to %s, outside the repository, cannot go into the source archive", path, target)
	}
	return target, nil
}
