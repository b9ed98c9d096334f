package layer

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Entry is one path to put into a layer.
type Entry struct {
	// Path inside the layer, relative, cleaned ("app/bin/server").
	Path string
	// Source file on disk for regular files; empty for directories and symlinks.
	Source string
	// Linkname makes the entry a symlink.
	Linkname string
	// Dir makes the entry a directory.
	Dir bool
	// Mode is the permission bits; 0 means derived (0755 for dirs; for files see Exec).
	Mode int64
	// Exec says whether a regular file with Mode 0 is executable (0755) or not (0644).
	Exec Exec
	// Data, when not nil, is the content of a regular file given in memory.
	Data []byte
	// CharDevice makes the entry a character device with these numbers.
	CharDevice *[2]int64
	// UID and GID own the entry (default 0).
	UID, GID int
	// Uname and Gname are the owner names written beside the numbers (default none).
	Uname, Gname string
	// MTime, when not zero, replaces the layer's mtime for this entry.
	MTime time.Time
	// Input names where the entry came from, for error messages: a flag, an attribute.
	Input string
	// ParentOf, for a directory added only because entries lie below it, names one of
	// them, for error messages.
	ParentOf string

	// read is Source's content when AddFiles read it already (done nil).
	read *fileRead
}

// Exec is how a regular file's default mode is chosen.
type Exec int8

const (
	// ExecFromSource: 0755 if the source file has an executable bit, else 0644. For the
	// command line only: under Bazel a file's bits depend on where the action runs (remote
	// execution marks every input executable), so the rules decide with ExecYes/ExecNo.
	ExecFromSource Exec = iota
	// ExecYes: 0755.
	ExecYes
	// ExecNo: 0644.
	ExecNo
)

// Epoch is the fixed mtime of every entry unless a caller sets another.
var Epoch = time.Unix(0, 0).UTC()

// CleanPath turns a destination such as "/app/bin/x" into "app/bin/x", refusing paths
// that escape the root.
func CleanPath(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty path")
	}
	if strings.Contains(p, "..") {
		for _, part := range strings.Split(p, "/") {
			if part == ".." {
				return "", fmt.Errorf("path %q contains '..'", p)
			}
		}
	}
	// With no "..", cleaning p as it is gives the same path as under "/" (and allocates
	// nothing when p is clean already, as most are).
	c := strings.TrimPrefix(path.Clean(p), "/")
	if c == "" || c == "." {
		return "", fmt.Errorf("path %q names the root", p)
	}
	return c, nil
}

// WriteTar writes entries as a deterministic tar: sorted by path, parents created as
// needed, owner root:root with no names, fixed mtime. Every entry written follows the rules
// in check.go: a path given twice is an error, except a directory restated as a directory,
// whose later metadata is kept (one entry is written).
func WriteTar(w io.Writer, entries []Entry, mtime time.Time) error {
	return WriteTarWithArchives(w, entries, nil, mtime)
}

// WriteTarWithArchives writes entries as WriteTar does, then the entries of each archive
// (.tar, .tar.gz, .tar.zst) in their order, normalized the same way: owner numbers kept,
// names dropped, mtime fixed. The archives' entries follow the same rules as the entries
// given (check.go), across all inputs: "lnk/passwd" in an archive after a symlink "lnk"
// given or archived earlier is an error, as are a file and a directory at one path. An
// archive's directory that restates a directory already written is written again, so that
// its metadata wins on extraction. Global PAX headers (type 'g', the pax_global_header that
// `git archive` writes with the commit id as a comment) are dropped: their records are not
// applied to the entries that follow and never reach the layer.
func WriteTarWithArchives(w io.Writer, entries []Entry, archives []string, mtime time.Time) error {
	// Headers, small files and padding are a few writes each: gathered here, the compressor
	// and the hash take them in large pieces.
	bw := bufio.NewWriterSize(w, 256<<10)
	tw, c, err := writeEntries(bw, entries, mtime)
	if err != nil {
		return err
	}
	for _, a := range archives {
		if err := copyArchive(tw, a, c, mtime); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// copyArchive appends an archive's entries, checking each with c.
func copyArchive(tw *tarWriter, name string, c *checker, mtime time.Time) error {
	input := "tar " + name
	fail := func(err error) error { return fmt.Errorf("%s: %w", input, err) }
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return fail(err)
	}
	defer r.Close()
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			if err := afterEnd(cr); err != nil {
				return fail(err)
			}
			return nil
		}
		if err != nil {
			return fail(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue // dropped, records and all: see WriteTarWithArchives
		}
		if isRoot(h.Name) {
			continue // the archive's root entry ("./")
		}
		k, ok := tarKinds[h.Typeflag]
		if !ok {
			return fail(fmt.Errorf("entry %q has unsupported tar type %q", h.Name, h.Typeflag))
		}
		p, link, err := c.check(h.Name, k, h.Linkname, input, "")
		if err != nil {
			return err
		}
		h.Name = p
		if k == kindDir {
			h.Name += "/"
		}
		if k == kindHardlink {
			h.Linkname = link
		}
		h.ModTime, h.AccessTime, h.ChangeTime = mtime, time.Time{}, time.Time{}
		h.Uname, h.Gname, h.Format = "", "", tar.FormatPAX
		delete(h.PAXRecords, "mtime")
		delete(h.PAXRecords, "atime")
		delete(h.PAXRecords, "ctime")
		if err := tw.WriteHeader(h); err != nil {
			return fail(fmt.Errorf("%s: %w", h.Name, err))
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fail(fmt.Errorf("%s: %w", h.Name, err))
		}
	}
}

// isRoot says whether an archive entry's name is the root itself ("./", "/", "."), which
// carries nothing a layer can hold.
func isRoot(name string) bool {
	return path.Clean("/"+name) == "/" && !strings.Contains(name, "..")
}

// decompress sniffs gzip and zstd by their magic numbers; anything else is a plain tar.
func decompress(f io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(f)
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return gzip.NewReader(br)
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// writeEntries writes entries (and their missing parents) sorted by path, checking each,
// and returns the checker that knows them. A directory given twice is written once, with
// the later one's metadata; any other path given twice fails the check.
func writeEntries(w io.Writer, entries []Entry, mtime time.Time) (*tarWriter, *checker, error) {
	// Pointers, not copies: 100,000 entries are about 20 MB, which stay the caller's.
	list := make([]*Entry, 0, len(entries))
	at := make(map[string]int, len(entries)) // path -> index in list of its first entry
	for i := range entries {
		e := &entries[i]
		p, err := CleanPath(e.Path)
		if err != nil {
			if e.Input != "" {
				err = fmt.Errorf("%s: %w", e.Input, err)
			}
			return nil, nil, err
		}
		if p != e.Path {
			cleaned := *e
			cleaned.Path = p
			e = &cleaned
		}
		i, dup := at[p]
		if dup && list[i].Dir && e.Dir {
			list[i] = e
			continue
		}
		if !dup {
			at[p] = len(list)
		}
		list = append(list, e)
	}
	// Missing parents; the walk up stops at any path given, which has its own walk (or, if
	// it is not a directory, makes the entries below it fail the check).
	for _, e := range list[:len(list):len(list)] {
		for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
			if _, ok := at[d]; ok {
				break
			}
			at[d] = len(list)
			list = append(list, &Entry{Path: d, Dir: true, Input: e.Input, ParentOf: e.Path})
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	c := newChecker()
	tw := newTarWriter(w)
	// One copy buffer for every file: io.Copy would allocate 32 KiB per file, and for
	// 100,000 small files the garbage collector then costs more than the copying.
	buf := make([]byte, 128<<10)
	reads, stop := prefetch(list)
	defer stop()
	for _, e := range list {
		if _, _, err := c.check(e.Path, entryKind(*e), e.Linkname, e.Input, e.ParentOf); err != nil {
			return nil, nil, err
		}
		var r *fileRead
		switch {
		case e.read != nil:
			r = e.read
		case readsFile(*e):
			r = <-reads
			<-r.done
		}
		if err := writeEntry(tw, *e, mtime, buf, r); err != nil {
			return nil, nil, err
		}
	}
	return tw, c, nil
}

// readerOnly hides *os.File's WriteTo, so that io.CopyBuffer uses the given buffer.
type readerOnly struct{ io.Reader }

// writeEntry writes e; r, for a file entry, is its prefetched read.
func writeEntry(tw *tarWriter, e Entry, mtime time.Time, buf []byte, r *fileRead) error {
	h := &tar.Header{Name: e.Path, ModTime: mtime, Format: tar.FormatPAX, Uid: e.UID, Gid: e.GID, Uname: e.Uname, Gname: e.Gname}
	if !e.MTime.IsZero() {
		h.ModTime = e.MTime
	}
	switch {
	case e.CharDevice != nil:
		h.Typeflag, h.Devmajor, h.Devminor, h.Mode = tar.TypeChar, e.CharDevice[0], e.CharDevice[1], 0o600
	case e.Data != nil:
		h.Typeflag, h.Size, h.Mode = tar.TypeReg, int64(len(e.Data)), 0o644
		if e.Mode != 0 {
			h.Mode = e.Mode
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(e.Data)
		return err
	case e.Dir:
		h.Typeflag, h.Name, h.Mode = tar.TypeDir, e.Path+"/", 0o755
	case e.Linkname != "":
		h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.Linkname, 0o777
	default:
		return writeFile(tw, h, e, buf, r)
	}
	if e.Mode != 0 {
		h.Mode = e.Mode
	}
	return tw.WriteHeader(h)
}

// writeFile writes the regular file e: its bytes from r when they were read ahead,
// else streamed from e.Source.
func writeFile(tw *tarWriter, h *tar.Header, e Entry, buf []byte, r *fileRead) error {
	if r != nil && r.err != nil {
		return r.err
	}
	var f *os.File
	var size int64
	var perm fs.FileMode
	if r != nil && r.data != nil {
		size, perm = int64(len(r.data)), r.perm
	} else {
		var st fs.FileInfo
		var err error
		if f, st, err = openRegular(e.Source); err != nil {
			return err
		}
		defer f.Close()
		size, perm = st.Size(), st.Mode().Perm()
	}
	h.Typeflag, h.Size, h.Mode = tar.TypeReg, size, 0o644
	if e.Exec == ExecYes || e.Exec == ExecFromSource && perm&0o111 != 0 {
		h.Mode = 0o755
	}
	if e.Mode != 0 {
		h.Mode = e.Mode
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if f == nil {
		_, err := tw.Write(r.data)
		return err
	}
	n, err := io.CopyBuffer(tw, readerOnly{f}, buf)
	if err != nil {
		return fmt.Errorf("%s: %w", e.Source, err)
	}
	if n != size {
		return changedSize(e.Source)
	}
	return nil
}

// openRegular opens path, which must be a regular file (after symlinks).
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: not a regular file (%v)", path, st.Mode().Type())
	}
	return f, st, nil
}

func changedSize(path string) error { return fmt.Errorf("%s changed size while being read", path) }

// Mode parses an octal permission string such as "0755".
func Mode(s string) (int64, error) {
	var m int64
	if _, err := fmt.Sscanf(s, "%o", &m); err != nil || m < 0 || m > 0o7777 {
		return 0, fmt.Errorf("bad mode %q", s)
	}
	return m, nil
}

// ExpandDir returns the entries for putting src at dest: src itself when it is a file, or,
// when it is a directory (a source directory or a Bazel tree artifact), every file, symlink
// and directory under it, in sorted order, files with exec. Symlinks inside are kept as
// symlinks only when they stay inside src; otherwise the file they point to is copied (as
// Bazel's sandbox presents inputs as symlinks to the real files).
func ExpandDir(dest, src string, exec Exec) ([]Entry, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []Entry{{Path: dest, Source: src, Exec: exec}}, nil
	}
	var out []Entry
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := path.Join(dest, filepath.ToSlash(rel))
		switch {
		case rel == ".":
			out = append(out, Entry{Path: dest, Dir: true})
		case d.IsDir():
			out = append(out, Entry{Path: target, Dir: true})
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if !filepath.IsAbs(link) {
				if r, err := filepath.Rel(src, filepath.Join(filepath.Dir(p), link)); err == nil && !strings.HasPrefix(r, "..") {
					out = append(out, Entry{Path: target, Linkname: link})
					return nil
				}
			}
			st, err := os.Stat(p)
			if err != nil {
				return err
			}
			if st.IsDir() {
				return fmt.Errorf("%s: symlink to a directory outside the tree", p)
			}
			out = append(out, Entry{Path: target, Source: p, Exec: exec})
		default:
			out = append(out, Entry{Path: target, Source: p, Exec: exec})
		}
		return nil
	})
	return out, err
}

// srcStat is what AddFiles learnt of a source: a directory or not, or why not known, and,
// for a small regular file read whole while it was open anyway, its bytes.
type srcStat struct {
	dir  bool
	err  error
	read *fileRead
}

// probeBudget bounds the bytes statAll keeps of the files it reads (memory stays the
// same whatever the layer); past it the sources are only stat'ed and read when written.
const probeBudget = 16 << 20

// statAll looks at srcs on several goroutines: for 100,000 inputs the path lookups are a
// third of the layer's time on one core, and they are independent. Small regular files are
// read while open (probe), within probeBudget in all, so that each costs one path lookup,
// not a stat and an open.
func statAll(srcs []string) []srcStat {
	out := make([]srcStat, len(srcs))
	var budget atomic.Int64
	budget.Store(probeBudget)
	const chunk = 1024
	// Each chunk's files share an arena: a few allocations instead of two per file, for
	// the garbage collector to keep track of.
	do := func(lo, hi int) {
		a := &arena{}
		for i := lo; i < hi; i++ {
			out[i] = probe(srcs[i], &budget, a)
		}
	}
	if len(srcs) <= chunk {
		do(0, len(srcs))
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), prefetchWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(srcs) {
					return
				}
				do(lo, min(lo+chunk, len(srcs)))
			}
		}()
	}
	wg.Wait()
	return out
}

// arena hands out the reads statAll keeps, and their bytes, from larger allocations.
type arena struct {
	reads []fileRead
	bytes []byte
}

const arenaBytes = 64 << 10

// kept returns a finished read (no done channel) of data and perm.
func (a *arena) kept(data []byte, perm fs.FileMode) *fileRead {
	if len(a.reads) == cap(a.reads) {
		a.reads = make([]fileRead, 0, 256)
	}
	a.reads = append(a.reads, fileRead{data: data, perm: perm})
	return &a.reads[len(a.reads)-1]
}

// alloc returns n bytes; past a quarter of an arena's size they are allocated alone.
func (a *arena) alloc(n int) []byte {
	if n > arenaBytes/4 {
		return make([]byte, n)
	}
	if cap(a.bytes)-len(a.bytes) < n {
		a.bytes = make([]byte, 0, arenaBytes)
	}
	a.bytes = a.bytes[:len(a.bytes)+n]
	return a.bytes[len(a.bytes)-n : len(a.bytes) : len(a.bytes)]
}

// statOnly is probe's answer when it does not read: os.Stat's.
func statOnly(path string) srcStat {
	st, err := os.Stat(path)
	return srcStat{dir: err == nil && st.IsDir(), err: err}
}

// Files up to prefetchMax are read whole ahead of the tar writer, by prefetchWorkers
// goroutines at most prefetchAhead files ahead: opening and reading 100,000 small files is
// mostly system calls, which then run on every core while the writer and the compressor
// work. Larger files are streamed by the writer. Memory: at most prefetchAhead*prefetchMax.
const (
	prefetchMax     = 256 << 10
	prefetchAhead   = 128
	prefetchWorkers = 4
)

// fileRead is one file entry's read: done is closed when data (the whole file, if small)
// or err is set; neither set means a large file, streamed by the writer. A read statAll
// kept (the file's bytes, read when its source was first looked at) has no done: the writer
// takes it instead of opening the file a second time.
type fileRead struct {
	done chan struct{}
	data []byte
	perm fs.FileMode
	err  error
}

// readsFile says whether writeEntry reads e from its Source, the entries prefetch covers:
// not those AddFiles read already.
func readsFile(e Entry) bool {
	return e.CharDevice == nil && e.Data == nil && !e.Dir && e.Linkname == "" && e.read == nil
}

// prefetch reads the file entries of list ahead, in order: the writer takes one fileRead
// from reads per such entry. stop, called once, ends the goroutines (the writer may stop
// early on an error).
func prefetch(list []*Entry) (reads <-chan *fileRead, stop func()) {
	out := make(chan *fileRead, prefetchAhead)
	work := make(chan func())
	quit := make(chan struct{})
	for range prefetchWorkers {
		go func() {
			for {
				select {
				case job := <-work:
					job()
				case <-quit:
					return
				}
			}
		}()
	}
	go func() {
		for _, e := range list {
			if !readsFile(*e) {
				continue
			}
			r := &fileRead{done: make(chan struct{})}
			// Order first (the writer waits on r.done), then the read.
			select {
			case out <- r:
			case <-quit:
				return
			}
			select {
			case work <- func() { r.read(e.Source); close(r.done) }:
			case <-quit:
				return
			}
		}
	}()
	return out, func() { close(quit) }
}

// read reads a small regular file whole; a large one (or anything but a regular file) is
// left to the writer. Errors are those the writer would give.
func (r *fileRead) read(path string) {
	r.data, r.perm, r.err = readSmall(path, prefetchMax)
}

// readSmallPortable is readSmall through package os.
func readSmallPortable(path string, max int64) ([]byte, fs.FileMode, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	if st.Size() > max {
		return nil, 0, nil
	}
	// One byte more than the size: a file that grew is caught, as when streaming.
	data := make([]byte, st.Size()+1)
	n, err := io.ReadFull(f, data)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	if int64(n) != st.Size() {
		return nil, 0, changedSize(path)
	}
	return data[:n:n], st.Mode().Perm(), nil
}
