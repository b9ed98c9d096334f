//go:build !unix

package layer

import (
	"io/fs"
	"sync/atomic"
)

// readSmall returns the bytes and permission bits of path, a regular file of at most max
// bytes; nil data and no error for a larger file, which the writer streams.
func readSmall(path string, max int64) ([]byte, fs.FileMode, error) {
	return readSmallPortable(path, max)
}

// probe is statOnly: the read ahead of statAll is for unix.
func probe(path string, _ *atomic.Int64, _ *arena) srcStat { return statOnly(path) }

// openNonblock: none needed off unix.
const openNonblock = 0
