//go:build unix

package layer

import (
	"io/fs"
	"sync/atomic"
	"syscall"
)

// openNonblock opens a source without waiting: a FIFO given as a file would otherwise
// stall the layer until something writes to it. A regular file reads the same either way
// (open(2): the flag has no effect on regular files; GNU tar opens its inputs so too);
// anything else is refused after the open.
const openNonblock = syscall.O_NONBLOCK

// readSmall returns the bytes and permission bits of path, a regular file of at most max
// bytes; nil data and no error for anything else (a larger file, or not a regular file),
// which the writer streams or refuses. It makes four system calls (open, fstat, read,
// close) where os.Open and os.File make ten: for 100,000 small files the poller
// registration and flag checks of os.File were most of the layer's system time.
func readSmall(path string, max int64) ([]byte, fs.FileMode, error) {
	fd, st, err := openStat(path)
	if err != nil {
		return nil, 0, err
	}
	defer syscall.Close(fd)
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size > max {
		return nil, 0, nil
	}
	data, err := readFd(fd, path, make([]byte, st.Size+1))
	if err != nil {
		return nil, 0, err
	}
	return data, fs.FileMode(st.Mode & 0o777), nil
}

// openStat opens path (openNonblock) and fstats it; on success the caller closes fd.
func openStat(path string) (int, *syscall.Stat_t, error) {
	fd, err := retry(func() (int, error) { return syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|openNonblock, 0) })
	if err != nil {
		return 0, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return 0, nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return fd, &st, nil
}

// readFd reads the regular file open at fd into data, which is one byte longer than the
// file's size: a file that grew is caught, as when streaming. A read that stops exactly at
// the size has met the end of the file, so a second read (which would return 0) is not made.
func readFd(fd int, path string, data []byte) ([]byte, error) {
	size := int64(len(data) - 1)
	n := 0
	for n < len(data) {
		m, err := retry(func() (int, error) { return syscall.Read(fd, data[n:]) })
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		n += m
		if m == 0 || int64(n) == size {
			break
		}
	}
	if int64(n) != size {
		return nil, changedSize(path)
	}
	return data[:n:n], nil
}

// probeOverhead is what a kept file costs beside its bytes, charged to statAll's budget.
const probeOverhead = 64

// probe looks at path with one path lookup: an open (openNonblock) and an fstat. A
// regular file of at most prefetchMax bytes is read whole while budget lasts. When anything
// is unusual (the open or a read fails) os.Stat answers now and the writer reads later, so
// that the errors a user sees are theirs.
func probe(path string, budget *atomic.Int64, a *arena) srcStat {
	if budget.Load() <= 0 {
		return statOnly(path)
	}
	fd, st, err := openStat(path)
	if err != nil {
		return statOnly(path)
	}
	defer syscall.Close(fd)
	switch {
	case st.Mode&syscall.S_IFMT == syscall.S_IFDIR:
		return srcStat{dir: true}
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size > prefetchMax:
		return srcStat{}
	case budget.Add(-st.Size-probeOverhead) < 0:
		return srcStat{}
	}
	data, err := readFd(fd, path, a.alloc(int(st.Size)+1))
	if err != nil {
		return srcStat{}
	}
	return srcStat{read: a.kept(data, fs.FileMode(st.Mode&0o777))}
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
