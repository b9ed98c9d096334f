//go:build unix

package layer

import (
	"io/fs"
	"syscall"
)

// readSmall returns the bytes and permission bits of path, a regular file of at most max
// bytes; nil data and no error for anything else (a larger file, or not a regular file),
// which the writer streams or refuses. It makes four system calls (open, fstat, read,
// close) where os.Open and os.File make ten: for 100,000 small files the poller
// registration and flag checks of os.File were most of the layer's system time.
func readSmall(path string, max int64) ([]byte, fs.FileMode, error) {
	fd, err := retry(func() (int, error) { return syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0) })
	if err != nil {
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, 0, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size > max {
		return nil, 0, nil
	}
	// One byte more than the size: a file that grew is caught, as when streaming. A read
	// that stops exactly at the size has met the end of the file, so a second read (which
	// would return 0) is not made.
	data := make([]byte, st.Size+1)
	n := 0
	for n < len(data) {
		m, err := retry(func() (int, error) { return syscall.Read(fd, data[n:]) })
		if err != nil {
			return nil, 0, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		n += m
		if m == 0 || int64(n) == st.Size {
			break
		}
	}
	if int64(n) != st.Size {
		return nil, 0, changedSize(path)
	}
	return data[:n:n], fs.FileMode(st.Mode & 0o777), nil
}

// retry repeats a system call that a signal interrupted (Go's runtime sends them).
func retry(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != syscall.EINTR {
			return n, err
		}
	}
}
