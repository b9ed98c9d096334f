//go:build !unix

package layer

import "io/fs"

// readSmall returns the bytes and permission bits of path, a regular file of at most max
// bytes; nil data and no error for a larger file, which the writer streams.
func readSmall(path string, max int64) ([]byte, fs.FileMode, error) {
	return readSmallPortable(path, max)
}
