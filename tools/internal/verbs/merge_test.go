package verbs

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// merge-layers on two extracted packages: the merged blob is one gzip member whose tar has
// each path once (/etc as the first package has it, /etc/motd as the second), and the
// metadata describes exactly that blob.
func TestMergeLayers(t *testing.T) {
	key, err := apktest.NewKey("k.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var layerArgs, factsArgs []string
	for i, p := range []apktest.Package{
		{Name: "base", Version: "1-r0", Arch: "x86_64", Files: []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/motd", Content: "base\n"}, {Path: "etc/big", Content: strings.Repeat("0123456789abcdef", 40000)}}},
		{Name: "motd", Version: "1-r0", Arch: "x86_64", Files: []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/motd", Content: "motd\n"}}},
	} {
		b, err := apktest.Build(p, key)
		if err != nil {
			t.Fatal(err)
		}
		apk := filepath.Join(dir, p.Name+".apk")
		os.WriteFile(apk, b.APK, 0o644)
		o := func(s string) string { return filepath.Join(dir, p.Name+"."+s) }
		if err := apkExtract([]string{"--name", p.Name, "--version", p.Version, "--arch", p.Arch, "--part", apk,
			"--blob", o("blob"), "--metadata", o("meta"), "--facts", o("facts")}); err != nil {
			t.Fatalf("package %d: %v", i, err)
		}
		layerArgs = append(layerArgs, "--layer", o("blob")+"="+o("meta"))
		factsArgs = append(factsArgs, "--facts", o("facts"))
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	blob, meta := filepath.Join(out, "merged.tar.gz"), filepath.Join(out, "merged.json")
	if err := mergeVerb(append(append(layerArgs, factsArgs...), "--blob", blob, "--metadata", meta, "--created-by", "apk base motd")); err != nil {
		t.Fatal(err)
	}
	m, err := layer.ReadMetadata(meta)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(blob)
	if sum := sha256.Sum256(raw); m.Digest != "sha256:"+hex.EncodeToString(sum[:]) || m.Size != int64(len(raw)) || m.CreatedBy != "apk base motd" {
		t.Fatalf("metadata %+v does not describe the blob", m)
	}
	f, _ := os.Open(blob)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	h := sha256.New()
	tr := tar.NewReader(io.TeeReader(zr, h))
	var names []string
	motd := ""
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimSuffix(hd.Name, "/"))
		if hd.Name == "etc/motd" {
			b, _ := io.ReadAll(tr)
			motd = string(b)
		}
	}
	io.Copy(h, zr)
	if m.DiffID != "sha256:"+hex.EncodeToString(h.Sum(nil)) {
		t.Fatalf("diffID %s is not the sha256 of the uncompressed blob", m.DiffID)
	}
	if got := strings.Join(names, ","); got != "etc,etc/big,etc/motd" || motd != "motd\n" {
		t.Fatalf("entries %s, last motd %q", got, motd)
	}

	// A layer that is not gzip is refused, and nothing is written.
	os.Remove(blob)
	os.Remove(meta)
	zstdMeta := filepath.Join(dir, "zstd.json")
	os.WriteFile(zstdMeta, []byte(`{"mediaType":"`+layer.MediaTypeZstd+`","digest":"sha256:`+strings.Repeat("0", 64)+`","size":1,"diffID":"sha256:`+strings.Repeat("0", 64)+`"}`), 0o644)
	err = mergeVerb(append(append(layerArgs, factsArgs...), "--layer", filepath.Join(dir, "base.blob")+"="+zstdMeta, "--facts", filepath.Join(dir, "base.facts"), "--blob", blob, "--metadata", meta))
	if err == nil || !strings.Contains(err.Error(), "only gzip layers") {
		t.Fatalf("zstd layer: %v", err)
	}
	if es := entries(t, out); len(es) != 0 {
		t.Fatalf("left %v", es)
	}
}
