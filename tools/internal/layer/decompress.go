package layer

import "io"

// Decompress opens a layer blob's tar stream: gzip and zstd by their magic numbers, anything
// else as a plain tar (readers of finished layers, e.g. the structure test, share the sniffing).
func Decompress(f io.Reader) (io.ReadCloser, error) { return decompress(f) }
