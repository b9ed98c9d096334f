// Command floor is the bench's floor for the APK rows: the work no APK tool can skip, done by
// the libraries wharf uses. For each file it reads every byte once, hashes the compressed
// bytes (sha256), inflates every gzip member (klauspost/compress) and hashes what comes out
// (sha256): a package's checksum, datahash and diff_id, with nothing else. One file after
// another on one goroutine, as `wharf` verbs run one after another in the bench.
//
//	floor FILE...
package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

func main() {
	var in, out int64
	for _, path := range os.Args[1:] {
		n, m, err := floor(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		in, out = in+n, out+m
	}
	fmt.Printf("%d files, %d bytes read, %d bytes inflated\n", len(os.Args)-1, in, out)
}

// floor hashes path's bytes and, inflated, every gzip member's; it returns both counts.
func floor(path string) (int64, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	raw := sha256.New()
	counted := &counter{r: io.TeeReader(f, raw)}
	zr, err := gzip.NewReader(bufio.NewReaderSize(counted, 1<<16))
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	inflated := sha256.New()
	m, err := io.Copy(inflated, zr)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return counted.n, m, nil
}

type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
