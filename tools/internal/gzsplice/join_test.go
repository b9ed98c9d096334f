package gzsplice

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// member is a test input: its tar stream and where each entry ends (padding included).
type member struct {
	full  []byte
	names []string
	ends  []int64
}

func makeTar(t testing.TB, seed uint64, files int, fileSize int, pad int) member {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	var m member
	add := func(h *tar.Header, data []byte) {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
		tw.Flush()
		m.names = append(m.names, h.Name)
		m.ends = append(m.ends, int64(b.Len()))
	}
	add(&tar.Header{Name: "usr/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	words := []string{"lib", "bin", "alpine", "\x00\x00", "ELF\x7f", " ", fmt.Sprint(seed)}
	for i := 0; i < files; i++ {
		if i%17 == 5 {
			add(&tar.Header{Name: fmt.Sprintf("usr/d%d/", i%3), Typeflag: tar.TypeDir, Mode: 0o755}, nil)
		}
		var data []byte
		n := rng.IntN(fileSize + 1)
		if i == files-1 {
			n = fileSize // the last file ends in zeros: they must survive
		}
		for len(data) < n {
			data = append(data, words[rng.IntN(len(words))]...)
		}
		data = data[:n]
		if i == files-1 && n > 100 {
			clear(data[n-100:])
		}
		name := fmt.Sprintf("usr/f%d-%d", seed, i)
		if i%13 == 3 {
			name = fmt.Sprintf("usr/shared%d", i%2) // in several members
		}
		add(&tar.Header{Name: name, Mode: 0o644, Size: int64(n), Uid: i, PAXRecords: map[string]string{"APK-TOOLS.checksum.SHA1": "x"}}, data)
	}
	add(&tar.Header{Name: "usr/link", Typeflag: tar.TypeSymlink, Linkname: "f0", Mode: 0o777}, nil)
	tw.Close()
	b.Write(make([]byte, pad))
	m.full = b.Bytes()
	return m
}

type gz struct {
	name string
	fn   func(w io.Writer) io.WriteCloser
}

var gzips = []gz{
	{"std6", func(w io.Writer) io.WriteCloser { z, _ := gzip.NewWriterLevel(w, 6); return z }},
	{"std9-named", func(w io.Writer) io.WriteCloser {
		z, _ := gzip.NewWriterLevel(w, 9)
		z.Name, z.Comment, z.Extra = "data.tar", "c", []byte{1, 2, 0, 0}
		return z
	}},
	{"std0", func(w io.Writer) io.WriteCloser { z, _ := gzip.NewWriterLevel(w, 0); return z }},
	{"klauspost1", func(w io.Writer) io.WriteCloser { z, _ := kgzip.NewWriterLevel(w, 1); return z }},
	{"klauspost-huffman", func(w io.Writer) io.WriteCloser { z, _ := kgzip.NewWriterLevel(w, -2); return z }},
}

func writeGzip(t testing.TB, dir string, g gz, data []byte, flushEvery int) string {
	t.Helper()
	var b bytes.Buffer
	z := g.fn(&b)
	for rest := data; len(rest) > 0; {
		n := len(rest)
		if flushEvery > 0 {
			n = min(n, flushEvery)
		}
		z.Write(rest[:n])
		if flushEvery > 0 {
			z.(interface{ Flush() error }).Flush()
		}
		rest = rest[n:]
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "*.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(b.Bytes())
	f.Close()
	return f.Name()
}

// policy is the verb's: a directory survives as the first member has it, anything else as
// the last member has it.
func policy(members []member) []func(string) bool {
	keep := map[string]int{}
	for i, m := range members {
		for _, n := range m.names {
			c := strings.TrimSuffix(n, "/")
			if _, seen := keep[c]; !strings.HasSuffix(n, "/") || !seen {
				keep[c] = i
			}
		}
	}
	var drops []func(string) bool
	for i := range members {
		drops = append(drops, func(name string) bool { return keep[name] != i })
	}
	return drops
}

// expected is the joined stream Join must give: each member's kept entries, byte for byte,
// and the last member's end-of-archive.
func expected(members []member, drop []func(string) bool) ([]byte, []string) {
	var want []byte
	var names []string
	for i, m := range members {
		var from int64
		for k, n := range m.names {
			if drop == nil || !drop[i](strings.TrimSuffix(n, "/")) {
				want = append(want, m.full[from:m.ends[k]]...)
				names = append(names, n)
			}
			from = m.ends[k]
		}
		if i == len(members)-1 {
			want = append(want, m.full[from:]...)
		}
	}
	return want, names
}

// inflateOne checks that joined is exactly one gzip member and returns its content.
func inflateOne(t *testing.T, joined []byte) []byte {
	t.Helper()
	br := bytes.NewReader(joined)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("reading the joined layer: %v", err)
	}
	if br.Len() != 0 {
		t.Fatalf("%d bytes after the first gzip member", br.Len())
	}
	return got
}

func checkJoined(t *testing.T, joined []byte, members []member, drop []func(string) bool, res *Result) {
	t.Helper()
	want, names := expected(members, drop)
	got := inflateOne(t, joined)
	if !bytes.Equal(got, want) {
		t.Fatalf("joined %d bytes, want %d (equal prefix %d)", len(got), len(want), commonPrefix(got, want))
	}
	if sum := sha256.Sum256(want); !bytes.Equal(res.DiffID, sum[:]) || res.Size != int64(len(want)) {
		t.Fatalf("result %x/%d, want %x/%d", res.DiffID, res.Size, sum, len(want))
	}
	tr := tar.NewReader(bytes.NewReader(got))
	var listed []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, h.Name)
	}
	if strings.Join(listed, ",") != strings.Join(names, ",") {
		t.Fatalf("entries %v, want %v", listed, names)
	}
}

func inputs(paths []string, drop []func(string) bool) []Input {
	var in []Input
	for i, p := range paths {
		x := Input{Path: p}
		if drop != nil {
			x.Drop = drop[i]
		}
		in = append(in, x)
	}
	return in
}

func testMembers(t testing.TB) []member {
	return []member{
		makeTar(t, 1, 120, 20000, 0),    // many blocks
		makeTar(t, 2, 3, 100, 0),        // one block
		makeTar(t, 3, 0, 0, 10240-1024), // only a directory and a symlink, padded like GNU tar
		makeTar(t, 4, 20, 100000, 0),
		makeTar(t, 5, 10, 3000, 0),
	}
}

func TestJoin(t *testing.T) {
	dir := t.TempDir()
	members := testMembers(t)
	for _, g := range gzips {
		for _, flush := range []int{0, 5000} {
			t.Run(fmt.Sprintf("%s/flush%d", g.name, flush), func(t *testing.T) {
				var paths []string
				for _, m := range members {
					paths = append(paths, writeGzip(t, dir, g, m.full, flush))
				}
				for _, n := range []int{1, 2, len(members)} {
					for _, drop := range [][]func(string) bool{nil, policy(members[:n])} {
						var out bytes.Buffer
						res, err := Join(&out, inputs(paths[:n], drop), -1)
						if err != nil {
							t.Fatal(err)
						}
						checkJoined(t, out.Bytes(), members[:n], drop, res)
						if n == len(members) {
							t.Logf("drops %v: %d bytes, copied %d bits, re-encoded %d of %d bytes, %d decoded twice",
								drop != nil, out.Len(), res.Stats.CopiedBits, res.Stats.ReencodedBytes, res.Size, res.Stats.DecodedTwice)
							if drop == nil && res.Stats.ReencodedBytes > res.Size/4 {
								t.Errorf("re-encoded too much: %+v", res.Stats)
							}
						}
					}
				}
			})
		}
	}
}

// Many small blocks and many dropped entries: more re-encoded runs than windows are kept
// for, so the member is decoded a second time, with the same result.
func TestJoinDecodedTwice(t *testing.T) {
	dir := t.TempDir()
	members := []member{makeTar(t, 6, 3000, 300, 0), makeTar(t, 7, 5, 1000, 0)}
	drop := []func(string) bool{
		func(n string) bool { return strings.HasSuffix(n, "1") || strings.HasSuffix(n, "7") },
		func(string) bool { return false },
	}
	var paths []string
	for _, m := range members {
		paths = append(paths, writeGzip(t, dir, gzips[0], m.full, 200))
	}
	var out bytes.Buffer
	res, err := Join(&out, inputs(paths, drop), -1)
	if err != nil {
		t.Fatal(err)
	}
	checkJoined(t, out.Bytes(), members, drop, res)
	if res.Stats.DecodedTwice != 1 || res.Stats.CopiedBits == 0 {
		t.Fatalf("stats %+v, want the first member decoded twice and blocks still copied", res.Stats)
	}
	// How the bytes to re-encode are read does not change the output.
	defer func(n int) { maxWindows = n }(maxWindows)
	maxWindows = 1 << 20
	var again bytes.Buffer
	res2, err := Join(&again, inputs(paths, drop), -1)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Stats.DecodedTwice != 0 || !bytes.Equal(again.Bytes(), out.Bytes()) {
		t.Fatalf("with every window kept: %+v, output equal: %v", res2.Stats, bytes.Equal(again.Bytes(), out.Bytes()))
	}
}

// Random members, compressors, flush patterns and drops against the reference.
func TestJoinRandom(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(42, 42))
	for iter := 0; iter < 40; iter++ {
		n := 1 + rng.IntN(4)
		var members []member
		var paths []string
		var drop []func(string) bool
		for i := 0; i < n; i++ {
			m := makeTar(t, uint64(100+iter*10+i), rng.IntN(60), rng.IntN(40000), []int{0, 512, 9216}[rng.IntN(3)])
			members = append(members, m)
			flush := []int{0, 0, 700, 10000}[rng.IntN(4)]
			paths = append(paths, writeGzip(t, dir, gzips[rng.IntN(len(gzips))], m.full, flush))
			mod := 2 + rng.IntN(5)
			drop = append(drop, func(name string) bool { return len(name)%mod == 0 })
		}
		var out bytes.Buffer
		res, err := Join(&out, inputs(paths, drop), -1)
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		checkJoined(t, out.Bytes(), members, drop, res)
	}
}

func TestJoinErrors(t *testing.T) {
	dir := t.TempDir()
	m := makeTar(t, 8, 20, 5000, 0)
	good := writeGzip(t, dir, gzips[0], m.full, 0)
	raw, _ := os.ReadFile(good)
	junk := writeGzip(t, dir, gzips[0], append(bytes.Clone(m.full), 1), 0)
	write := func(b []byte) string {
		f, _ := os.CreateTemp(dir, "")
		f.Write(b)
		f.Close()
		return f.Name()
	}
	badCRC := bytes.Clone(raw)
	badCRC[len(badCRC)-5] ^= 1
	for name, tc := range map[string]struct {
		path string
		want string
	}{
		"junk after end-of-archive": {junk, "non-zero bytes after the tar end-of-archive"},
		"truncated":                 {write(raw[:len(raw)/2]), "unexpected EOF"},
		"two members":               {write(append(bytes.Clone(raw), raw...)), "not a single gzip member"},
		"bad crc":                   {write(badCRC), "gzip trailer does not match"},
		"not gzip":                  {write(m.full), "not a gzip"},
		"not tar":                   {writeGzip(t, dir, gzips[0], bytes.Repeat([]byte("x"), 2000), 0), "reading tar"},
		"missing":                   {filepath.Join(dir, "missing"), "no such file"},
	} {
		for _, pos := range []string{"first", "last"} {
			paths := []string{tc.path, good}
			if pos == "last" {
				paths = []string{good, tc.path}
			}
			_, err := Join(io.Discard, inputs(paths, nil), -1)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("%s (%s): %v, want an error naming the file with %q", name, pos, err, tc.want)
			}
		}
	}
}

func BenchmarkJoin(b *testing.B) {
	dir := b.TempDir()
	members := testMembers(b)
	var paths []string
	size := 0
	for _, m := range members {
		paths = append(paths, writeGzip(b, dir, gzips[0], m.full, 0))
		size += len(m.full)
	}
	drop := policy(members)
	b.SetBytes(int64(size))
	for b.Loop() {
		if _, err := Join(io.Discard, inputs(paths, drop), -1); err != nil {
			b.Fatal(err)
		}
	}
}

type testEntry struct {
	h    *tar.Header
	data []byte
}

// tarMember writes entries as a member (with end-of-archive).
func tarMember(t testing.TB, entries ...testEntry) member {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	var m member
	for _, e := range entries {
		if err := tw.WriteHeader(e.h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
		tw.Flush()
		m.names = append(m.names, e.h.Name)
		m.ends = append(m.ends, int64(b.Len()))
	}
	tw.Close()
	m.full = b.Bytes()
	return m
}

// readJoined checks that joined is one gzip member whose sha256 and size res gives, and
// returns its tar entries.
func readJoined(t *testing.T, joined []byte, res *Result) []testEntry {
	t.Helper()
	got := inflateOne(t, joined)
	if sum := sha256.Sum256(got); !bytes.Equal(res.DiffID, sum[:]) || res.Size != int64(len(got)) {
		t.Fatalf("result %x/%d, want %x/%d", res.DiffID, res.Size, sum, len(got))
	}
	tr := tar.NewReader(bytes.NewReader(got))
	var es []testEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return es
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, testEntry{h, b})
	}
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefgh\x00\x01"[rng.IntN(10)]
	}
	return b
}

// Global PAX headers (typeflag 'g', as `git archive` starts its tars with) are left out of
// the joined stream wherever they are, without asking Drop: their records would apply to
// every later entry, the other inputs' too.
func TestJoinDropsGlobalHeaders(t *testing.T) {
	dir := t.TempDir()
	g := func() testEntry {
		return testEntry{h: &tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": strings.Repeat("c", 600)}}}
	}
	file := func(name string, n int) testEntry {
		return testEntry{&tar.Header{Name: name, Mode: 0o644, Size: int64(n), Typeflag: tar.TypeReg}, randomBytes(uint64(n), n)}
	}
	members := []member{
		tarMember(t, g(), file("a", 5000), g(), file("b", 100)),
		tarMember(t, g(), file("c", 70000)),
		tarMember(t, file("d", 10), g()),
	}
	isG := func(n string) bool { return n == "pax_global_header" }
	for _, gz := range gzips {
		var paths []string
		for _, m := range members {
			paths = append(paths, writeGzip(t, dir, gz, m.full, 0))
		}
		for _, withDrop := range []bool{false, true} {
			in := inputs(paths, nil)
			if withDrop {
				for i := range in {
					in[i].Drop = func(name string) bool {
						if isG(name) {
							t.Errorf("Drop asked about the global header")
						}
						return false
					}
				}
			}
			var out bytes.Buffer
			res, err := Join(&out, in, -1)
			if err != nil {
				t.Fatal(err)
			}
			checkJoined(t, out.Bytes(), members, []func(string) bool{isG, isG, isG}, res)
		}
	}
}

// Rewrite replaces an entry's header (here: a file renamed, a hardlink pointed elsewhere)
// and keeps its data; the blocks that hold the header are encoded again.
func TestJoinRewrite(t *testing.T) {
	dir := t.TempDir()
	fdata := randomBytes(1, 40000)
	a := tarMember(t,
		testEntry{h: &tar.Header{Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755}},
		testEntry{&tar.Header{Name: "a/f", Typeflag: tar.TypeReg, Mode: 0o750, Size: int64(len(fdata)), PAXRecords: map[string]string{"APK-TOOLS.checksum.SHA1": "x"}}, fdata},
		testEntry{&tar.Header{Name: "a/g", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3}, []byte("ggg")},
		testEntry{h: &tar.Header{Name: "b/h", Typeflag: tar.TypeLink, Linkname: "a/f", Mode: 0o644}},
		testEntry{h: &tar.Header{Name: "b/h2", Typeflag: tar.TypeLink, Linkname: "a/f", Mode: 0o644}},
		testEntry{&tar.Header{Name: "z", Typeflag: tar.TypeReg, Mode: 0o644, Size: 30000}, randomBytes(2, 30000)},
	)
	b := tarMember(t, testEntry{&tar.Header{Name: "a/f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2}, []byte("bb")})
	long := strings.Repeat("long/", 30) + "h\xe9" // needs a PAX path record, not UTF-8
	for _, g := range gzips {
		for _, flush := range []int{0, 700} {
			for _, newName := range []string{"b/h", long} {
				checkRenameJoin(t, writeGzip(t, dir, g, a.full, flush), writeGzip(t, dir, g, b.full, flush), g.name, flush, newName, fdata)
			}
		}
	}
	// The same with windows not kept (the member decoded twice).
	defer func(n int) { maxWindows = n }(maxWindows)
	maxWindows = 0
	pa, pb := writeGzip(t, dir, gzips[0], a.full, 700), writeGzip(t, dir, gzips[0], b.full, 0)
	checkRewriteDecodedTwice(t, pa, pb)
	checkBadRewrites(t, pa)
}

// checkRenameJoin joins pa (a/f renamed newName, b/h dropped, b/h2 linked to newName) and pb:
// the entries, the renamed entry's data, and bits copied (but from std0).
func checkRenameJoin(t *testing.T, pa, pb, gzName string, flush int, newName string, fdata []byte) {
	t.Helper()
	in := []Input{{Path: pa,
		Drop: func(name string) bool { return name == "b/h" },
		Rewrite: func(name string, h *tar.Header) *tar.Header {
			switch name {
			case "a/f":
				n := *h
				n.Name = newName
				return &n
			case "b/h2":
				n := *h
				n.Linkname = newName
				return &n
			}
			return nil
		}}, {Path: pb}}
	var out bytes.Buffer
	res, err := Join(&out, in, -1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range readJoined(t, out.Bytes(), res) {
		got = append(got, fmt.Sprintf("%s %c %s %o %d %s", e.h.Name, e.h.Typeflag, e.h.Linkname, e.h.Mode, len(e.data), e.h.PAXRecords["APK-TOOLS.checksum.SHA1"]))
		if e.h.Name == newName && !bytes.Equal(e.data, fdata) {
			t.Errorf("%s: the renamed entry's data differ", gzName)
		}
	}
	want := "a/ 5  755 0 ,NEW 0  750 40000 x,a/g 0  644 3 ,b/h2 1 NEW 644 0 ,z 0  644 30000 ,a/f 0  644 2 "
	if g := strings.Join(got, ","); g != strings.ReplaceAll(want, "NEW", newName) {
		t.Fatalf("%s/%d: joined %q", gzName, flush, g)
	}
	if res.Stats.CopiedBits == 0 && gzName != "std0" {
		t.Errorf("%s/%d: nothing copied: %+v", gzName, flush, res.Stats)
	}
}

// checkRewriteDecodedTwice joins pa with a/g renamed and pb dropped whole, with no windows
// kept: the member is decoded twice.
func checkRewriteDecodedTwice(t *testing.T, pa, pb string) {
	t.Helper()
	var out bytes.Buffer
	res, err := Join(&out, []Input{{Path: pa, Rewrite: func(name string, h *tar.Header) *tar.Header {
		if name == "a/g" {
			n := *h
			n.Name = "a/G"
			return &n
		}
		return nil
	}}, {Path: pb, Drop: func(string) bool { return true }}}, -1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range readJoined(t, out.Bytes(), res) {
		got = append(got, e.h.Name)
	}
	if g := strings.Join(got, ","); g != "a/,a/f,a/G,b/h,b/h2,z" || res.Stats.DecodedTwice != 2 {
		t.Fatalf("decoded twice: %s, %+v", g, res.Stats)
	}
}

// checkBadRewrites: a new header must describe the same data.
func checkBadRewrites(t *testing.T, pa string) {
	t.Helper()
	for _, bad := range []func(h *tar.Header){
		func(h *tar.Header) { h.Size++ },
		func(h *tar.Header) { h.Typeflag = tar.TypeSymlink; h.Linkname = "x" },
		func(h *tar.Header) { h.Typeflag = tar.TypeXGlobalHeader },
	} {
		_, err := Join(io.Discard, []Input{{Path: pa, Rewrite: func(name string, h *tar.Header) *tar.Header {
			if name != "a/g" {
				return nil
			}
			n := *h
			bad(&n)
			return &n
		}}}, -1)
		if err == nil || !strings.Contains(err.Error(), "a/g") {
			t.Errorf("bad rewrite: %v", err)
		} else {
			t.Logf("bad rewrite: %v", err)
		}
	}
}
