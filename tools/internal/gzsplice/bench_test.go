package gzsplice

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

func benchInput(b *testing.B) []byte {
	return deflate(b, compressors()[3], corpus()["text"], 0)
}

func BenchmarkDecoder(b *testing.B) {
	z := benchInput(b)
	b.SetBytes(1 << 20)
	for b.Loop() {
		io.Copy(io.Discard, NewDecoder(bytes.NewReader(z)))
	}
}

func BenchmarkStdlib(b *testing.B) {
	z := benchInput(b)
	b.SetBytes(1 << 20)
	for b.Loop() {
		io.Copy(io.Discard, stdflate.NewReader(bytes.NewReader(z)))
	}
}

func BenchmarkKlauspost(b *testing.B) {
	z := benchInput(b)
	b.SetBytes(1 << 20)
	for b.Loop() {
		io.Copy(io.Discard, kflate.NewReader(bytes.NewReader(z)))
	}
}
