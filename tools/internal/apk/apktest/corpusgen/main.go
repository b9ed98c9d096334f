// Command corpusgen writes a corpus of the apko lock shapes users have, with the packages,
// indexes and keys they pin, for the end-to-end test (e2e/locks_test.go) that serves them
// over HTTP and builds an image from each lock:
//
//   - wolfi: unsigned packages (the lock pins them), 110 of them, two keyrings, two archs;
//   - alpine: SHA1-signed packages, key names with @ behind percent-encoded (%40) URLs;
//   - thirdparty: RSA/SHA256 signatures, an embedded key, a tagged repository line;
//   - pre013: the shape `apko resolve` wrote before 0.13 (no config, no package checksum,
//     a data range ending at the installed size);
//   - empty: no packages.
//
// Packages are fetched from -base (an http:// URL serving -dir); keys from file:// URLs
// (Bazel downloads plain http:// only with a checksum, which locks do not record for keys).
//
//	corpusgen -dir DIR -base http://127.0.0.1:PORT -probe PROGRAM
//
// writes DIR/<shape>.lock.json and prints {"wolfi_packages": N}. Each image's packages
// install PROGRAM as /usr/bin/probe and /usr/share/corpus/marker naming the shape.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

// corpus builds the packages, indexes, keys and locks of the shapes users have, under dir,
// with packages served from base (an http:// URL) and keys from file:// URLs (Bazel
// downloads plain http:// only with a checksum, which locks do not record for keys).
type corpus struct {
	dir, base  string
	probe      []byte
	locks      map[string][]byte
	wolfiCount int
	err        error // the first error; later steps do nothing
}

func (c *corpus) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *corpus) key(name string) *apktest.Key {
	k, err := apktest.NewKey(name)
	if err != nil {
		c.fail(err)
		return &apktest.Key{Name: name}
	}
	return k
}

func (c *corpus) write(rel string, b []byte) string {
	p := filepath.Join(c.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.fail(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		c.fail(err)
	}
	return p
}

// repo builds pkgs for arch into <path>/<arch>/ with a signed index and returns the lock's
// package entries.
func (c *corpus) repo(path, arch string, pkgs []apktest.Package, signer, indexKey *apktest.Key) []map[string]any {
	var built []*apktest.Built
	var entries []map[string]any
	for _, p := range pkgs {
		p.Arch = arch
		b, err := apktest.Build(p, signer)
		if err != nil {
			c.fail(fmt.Errorf("%s: %w", p.Name, err))
			return nil
		}
		file := fmt.Sprintf("%s/%s/%s-%s.apk", path, arch, p.Name, p.Version)
		c.write(file, b.APK)
		built = append(built, b)
		entries = append(entries, apktest.LockPackage(b, c.base+"/"+file))
	}
	idx, err := apktest.Index(built, indexKey, path)
	if err != nil {
		c.fail(err)
		return nil
	}
	c.write(path+"/"+arch+"/APKINDEX.tar.gz", idx)
	return entries
}

// keyURL writes k's public key and returns its file:// URL, with the @ of its name escaped
// as Alpine's key URLs have it. The directory is named by the key's hash: a key URL stands
// for one key, so Bazel may keep what it fetched from it.
func (c *corpus) keyURL(k *apktest.Key) string {
	pub := k.PublicPEM()
	sum := sha256.Sum256(pub)
	dir := "keys/" + hex.EncodeToString(sum[:4])
	c.write(dir+"/"+k.Name, pub)
	return "file://" + c.dir + "/" + dir + "/" + strings.ReplaceAll(k.Name, "@", "%40")
}

func (c *corpus) probePackage(marker string) []apktest.Package {
	return []apktest.Package{
		{Name: "corpus-probe", Version: "1.0.0-r0", Files: []apktest.File{
			{Path: "usr", Dir: true}, {Path: "usr/bin", Dir: true},
			{Path: "usr/bin/probe", Content: string(c.probe), Mode: 0o755},
			{Path: "usr/share", Dir: true}, {Path: "usr/share/corpus", Dir: true},
			{Path: "usr/share/corpus/marker", Content: marker + "\n"},
		}},
	}
}

func repoEntry(name, url, arch string) map[string]any {
	return map[string]any{"name": name, "url": url, "architecture": arch}
}

func (c *corpus) lock(name string, l map[string]any) {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		c.fail(err)
		return
	}
	c.locks[name] = append(b, '\n')
}

// wolfi: unsigned packages (the lock pins them), 100+ of them, two keyrings, two archs, the
// shape apko v0.30 writes.
func (c *corpus) wolfi() {
	signing, extras := c.key("wolfi-signing.rsa.pub"), c.key("chainguard-extras.rsa.pub")
	var packages, repos []map[string]any
	for _, arch := range []string{"x86_64", "aarch64"} {
		// Each architecture's libraries are its own bytes, as real builds are.
		pkgs := []apktest.Package{{Name: "wolfi-baselayout", Version: "20230201-r7", Origin: "wolfi-baselayout", Files: []apktest.File{
			{Path: "etc", Dir: true}, {Path: "etc/os-release", Content: "ID=wolfi\nNAME=\"Wolfi\"\nPRETTY_NAME=\"Wolfi\"\nVERSION_ID=\"20230201\"\nHOME_URL=\"https://wolfi.dev\"\n"},
		}}}
		for i := 0; i < 108; i++ {
			pkgs = append(pkgs, apktest.Package{Name: fmt.Sprintf("wolfi-lib%03d", i), Version: fmt.Sprintf("1.%d.0-r0", i), License: "MIT", Files: []apktest.File{
				{Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true},
				{Path: fmt.Sprintf("usr/lib/lib%03d.so.1", i), Content: strings.Repeat(fmt.Sprintf("lib %d for %s\n", i, arch), 50)},
			}})
		}
		pkgs = append(pkgs, c.probePackage("wolfi")...)
		for i := range pkgs {
			pkgs[i].Unsigned = true
		}
		c.wolfiCount = len(pkgs)
		packages = append(packages, c.repo("wolfi/os", arch, pkgs, nil, signing)...)
		repos = append(repos, repoEntry(strings.TrimPrefix(c.base, "http://")+"/wolfi/os/"+arch, c.base+"/wolfi/os/"+arch+"/APKINDEX.tar.gz", arch))
	}
	c.lock("wolfi", map[string]any{
		"version": "v1",
		"config":  map[string]any{"name": "apko.yaml", "checksum": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		"contents": map[string]any{
			"keyring": []any{
				map[string]any{"name": "packages.wolfi.dev/os/wolfi-signing.rsa.pub", "url": c.keyURL(signing)},
				map[string]any{"name": "packages.cgr.dev/extras/chainguard-extras.rsa.pub", "url": c.keyURL(extras)},
			},
			"build_repositories":   []any{},
			"runtime_repositories": []any{},
			"repositories":         repos,
			"packages":             packages,
		},
	})
}

// alpine: SHA1-signed packages, keys named with @ behind percent-encoded URLs, os-release a
// symlink to /usr/lib/os-release as alpine-release has it.
func (c *corpus) alpine() {
	const keyName = "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"
	signer, other := c.key(keyName), c.key("alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub")
	pkgs := append([]apktest.Package{
		{Name: "alpine-baselayout-data", Version: "3.7.0-r0", Files: []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/hostname", Content: "localhost\n"}}},
		{Name: "alpine-release", Version: "3.22.2-r0", Files: []apktest.File{
			{Path: "etc", Dir: true}, {Path: "etc/os-release", Linkname: "../usr/lib/os-release"},
			{Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true},
			{Path: "usr/lib/os-release", Content: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.22.2\nPRETTY_NAME=\"Alpine Linux v3.22\"\n"},
		}},
	}, c.probePackage("alpine")...)
	packages := c.repo("alpine/v3.22/main", "x86_64", pkgs, signer, signer)
	escaped := func(n string) string { return strings.ReplaceAll(n, "@", "%40") }
	c.lock("alpine", map[string]any{
		"version": "v1",
		"config":  map[string]any{"name": "apko.yaml", "checksum": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		"contents": map[string]any{
			"keyring": []any{
				map[string]any{"name": "alpinelinux.org/keys/" + escaped(keyName), "url": c.keyURL(signer)},
				map[string]any{"name": "alpinelinux.org/keys/alpine-devel%40lists.alpinelinux.org-616ae350.rsa.pub", "url": c.keyURL(other)},
			},
			"build_repositories":   []any{},
			"runtime_repositories": []any{},
			"repositories":         []any{repoEntry(strings.TrimPrefix(c.base, "http://")+"/alpine/v3.22/main/x86_64", c.base+"/alpine/v3.22/main/x86_64/APKINDEX.tar.gz", "x86_64")},
			"packages":             packages,
		},
	})
}

// thirdparty: a repository of a vendor, signed with RSA/SHA256, its key embedded in the lock
// (apko 1.2.24+), behind a tagged repository line, as apko 0.13-0.16 kept the tag; and an
// untagged repository beside it.
func (c *corpus) thirdparty() {
	vendor, base := c.key("vendor-2024.rsa.pub"), c.key("base.rsa.pub")
	vpkgs := []apktest.Package{{Name: "vendor-agent", Version: "4.2.0-r1", SHA256Signature: true, Files: []apktest.File{{Path: "opt", Dir: true}, {Path: "opt/vendor", Dir: true}, {Path: "opt/vendor/agent.conf", Content: "on\n"}}}}
	packages := c.repo("base/os", "x86_64", c.probePackage("thirdparty"), base, base)
	packages = append(packages, c.repo("vendor/apk", "x86_64", vpkgs, vendor, vendor)...)
	c.lock("thirdparty", map[string]any{
		"version": "v1",
		"config":  map[string]any{"name": "apko.yaml", "checksum": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		"contents": map[string]any{
			"keyring": []any{
				map[string]any{"name": "base.rsa.pub", "url": c.keyURL(base)},
				map[string]any{"name": "apk.vendor.example/keys/vendor-2024.rsa.pub", "url": "https://apk.vendor.example/keys/vendor-2024.rsa.pub", "content": string(vendor.PublicPEM())},
			},
			"build_repositories": []any{},
			"repositories": []any{
				repoEntry(strings.TrimPrefix(c.base, "http://")+"/base/os/x86_64", c.base+"/base/os/x86_64/APKINDEX.tar.gz", "x86_64"),
				repoEntry("@vendor "+c.base+"/vendor/apk/x86_64", "@vendor "+c.base+"/vendor/apk/x86_64/APKINDEX.tar.gz", "x86_64"),
			},
			"packages": packages,
		},
	})
}

// pre013: what `apko resolve` wrote before 0.13: no config, no package checksum, no
// build repositories, and a data range ending at the installed size, not the file's end.
func (c *corpus) pre013() {
	k := c.key("melange.rsa.pub")
	packages := c.repo("old/packages", "x86_64", c.probePackage("pre-0.13"), k, k)
	for _, p := range packages {
		delete(p, "checksum")
		d := p["data"].(map[string]string)
		first, _, _ := strings.Cut(strings.TrimPrefix(d["range"], "bytes="), "-")
		d["range"] = "bytes=" + first + "-42"
	}
	c.lock("pre013", map[string]any{
		"version": "v1",
		"contents": map[string]any{
			"keyring":      []any{map[string]any{"name": "./keys/melange.rsa.pub", "url": c.keyURL(k)}},
			"repositories": []any{repoEntry("./old/packages/x86_64", "./old/packages/x86_64/APKINDEX.tar.gz", "x86_64")},
			"packages":     packages,
		},
	})
}

// generate writes the corpus under dir; packages are addressed under base.
func generate(dir, base string, probe []byte) (*corpus, error) {
	c := &corpus{dir: dir, base: strings.TrimRight(base, "/"), probe: probe, locks: map[string][]byte{}}
	c.wolfi()
	c.alpine()
	c.thirdparty()
	c.pre013()
	c.locks["empty"] = []byte(`{"version": "v1", "contents": {"keyring": [], "build_repositories": [], "runtime_repositories": [], "repositories": [], "packages": []}}` + "\n")
	for name, b := range c.locks {
		c.write(name+".lock.json", b)
	}
	return c, c.err
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "corpusgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("corpusgen", flag.ContinueOnError)
	dir := fs.String("dir", "", "output directory (served at -base)")
	base := fs.String("base", "", "http:// URL the packages are served from")
	probePath := fs.String("probe", "", "the program the images run (a static linux/amd64 binary)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *base == "" || *probePath == "" {
		return errors.New("-dir, -base and -probe are required")
	}
	probe, err := os.ReadFile(*probePath)
	if err != nil {
		return err
	}
	c, err := generate(*dir, *base, probe)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]int{"wolfi_packages": c.wolfiCount})
}
