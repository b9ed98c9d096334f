// Command gen writes the benchmark inputs, deterministically (same bytes on every run):
//
//	repo/x86_64/*.apk + APKINDEX.tar.gz  100 signed packages, about 300 MB uncompressed
//	repo/bench.rsa.pub                    the signing key (generated once, kept in -out)
//	apko.lock.json, apko.changed.lock.json  the lock, and one with one package changed
//	apko.yaml                             the same packages for apko
//	big/file                              1 GiB single file        (-big=false skips it)
//	small/                                100,000 small files
//	gobin/                                a Go program embedding 30 MB
//
// go run ./tools/dev/bench/gen -out DIR
//
// For the scale bench (tools/dev/bench/scale.sh), -locks K also writes locks/lock_K.json:
// K locks that share -shared packages and split the rest between them, and
// locks/lock_0.changed.json, lock 0 with the changed package at r1; -packages and -payload
// size the repository, -layers=false skips big/, small/ and gobin/:
//
//	go run ./tools/dev/bench/gen -out DIR -packages 100 -payload 20971520 -locks 5 -shared 80 -layers=false
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

const (
	keyName     = "bench.rsa.pub"
	filesPerPkg = 12
)

// repoShape is the generated repository: how many packages, their bytes in all, how many
// scale locks and how many packages every one of them holds (the first ones; each later
// package depends on package 0).
type repoShape struct {
	packages, payload, locks, shared int
}

// changed is the index of the package that differs in the changed locks.
func (s repoShape) changed() int { return s.packages / 2 }

// check refuses a shape whose locks cannot be written: the changed package must be one
// every lock holds, and each lock needs a package of its own.
func (s repoShape) check() error {
	if s.packages < 1 || s.shared > s.packages || s.changed() >= s.shared {
		return fmt.Errorf("-packages %d -shared %d: want the changed package (%d, half of -packages) among the shared ones", s.packages, s.shared, s.changed())
	}
	if s.locks > 0 && s.packages-s.shared < s.locks {
		return fmt.Errorf("-locks %d: %d packages are not shared, want one for each lock at least", s.locks, s.packages-s.shared)
	}
	return nil
}

// content returns n bytes that compress about 2.5:1, like binaries: random runs mixed with
// repeats of earlier bytes.
func content(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; {
		run := 64 + r.IntN(448)
		if i+run > n {
			run = n - i
		}
		if i > 4096 && r.IntN(3) > 0 {
			src := r.IntN(i - run)
			copy(b[i:i+run], b[src:src+run])
		} else {
			for j := i; j < i+run; j++ {
				b[j] = byte(r.Uint32())
			}
		}
		i += run
	}
	return b
}

func pkg(s repoShape, i int, version string) apktest.Package {
	r := rand.New(rand.NewChaCha8([32]byte{byte(i), byte(len(version)), 'w', 'h', 'a', 'r', 'f'}))
	name := fmt.Sprintf("bench-pkg-%03d", i)
	p := apktest.Package{
		Name: name, Version: version, Arch: "x86_64", Origin: name, License: "MIT",
		Description: "benchmark package", BuildDate: 1700000000,
		Files: []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true}, {Path: "usr/lib/" + name, Dir: true}},
	}
	switch {
	case i >= s.shared:
		p.Depends = []string{"bench-pkg-000"}
	case i > 0:
		p.Depends = []string{fmt.Sprintf("bench-pkg-%03d", i-1)}
	}
	per := s.payload / s.packages / filesPerPkg
	for f := 0; f < filesPerPkg; f++ {
		p.Files = append(p.Files, apktest.File{Path: fmt.Sprintf("usr/lib/%s/part%02d.so", name, f), Content: string(content(r, per)), Mode: 0o755})
	}
	return p
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tools/dev/bench/gen:", err)
		os.Exit(1)
	}
}

func write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func run() error {
	out := flag.String("out", "", "output directory")
	big := flag.Bool("big", true, "also write the 1 GiB file")
	layers := flag.Bool("layers", true, "write the layer inputs (big/, small/, gobin/)")
	var s repoShape
	flag.IntVar(&s.packages, "packages", 100, "packages in the repository")
	flag.IntVar(&s.payload, "payload", 300<<20, "bytes of the packages' files in all")
	flag.IntVar(&s.shared, "shared", -1, "packages in every scale lock (-1: all)")
	flag.IntVar(&s.locks, "locks", 0, "scale locks to write into locks/ (0: none)")
	flag.Parse()
	if *out == "" {
		return errors.New("-out is required")
	}
	if s.shared < 0 {
		s.shared = s.packages
	}
	if err := writePackages(*out, s); err != nil {
		return err
	}
	if !*layers {
		return nil
	}
	// One random stream for the big file and the Go binary's payload, in that order.
	r := rand.New(rand.NewChaCha8([32]byte{'b', 'i', 'g'}))
	if *big {
		if err := writeBig(filepath.Join(*out, "big"), r); err != nil {
			return err
		}
	}
	if err := writeSmall(filepath.Join(*out, "small")); err != nil {
		return err
	}
	return writeGoBin(filepath.Join(*out, "gobin"), r)
}

// writePackages writes the repository of s's shape into out, its locks and apko.yaml.
func writePackages(out string, s repoShape) error {
	if err := s.check(); err != nil {
		return err
	}
	key, err := loadKey(filepath.Join(out, "bench.rsa"))
	if err != nil {
		return err
	}
	base, variant, err := writeRepo(filepath.Join(out, "repo"), key, s)
	if err != nil {
		return err
	}
	if err := writeLocks(out, base, variant); err != nil {
		return err
	}
	if err := writeScaleLocks(filepath.Join(out, "locks"), base, variant, s); err != nil {
		return err
	}
	return writeApkoYAML(out, base)
}

// loadKey reads the signing key at path, or makes one and writes it there, so that runs
// into the same directory sign alike.
func loadKey(path string) (*apktest.Key, error) {
	if b, err := os.ReadFile(path); err == nil {
		return apktest.ParseKey(keyName, b)
	}
	key, err := apktest.NewKey(keyName)
	if err != nil {
		return nil, err
	}
	return key, write(path, key.PrivatePEM())
}

// writeRepo builds the packages (base: every package at r0; variant: the same with the
// changed one at r1) and writes them, the public key and the signed APKINDEX into repo.
func writeRepo(repo string, key *apktest.Key, s repoShape) (base, variant []*apktest.Built, err error) {
	if err := write(filepath.Join(repo, keyName), key.PublicPEM()); err != nil {
		return nil, nil, err
	}
	for i := 0; i < s.packages; i++ {
		b, err := apktest.Build(pkg(s, i, "1.0.0-r0"), key)
		if err != nil {
			return nil, nil, err
		}
		base = append(base, b)
		if i == s.changed() {
			if b, err = apktest.Build(pkg(s, i, "1.0.0-r1"), key); err != nil {
				return nil, nil, err
			}
		}
		variant = append(variant, b)
	}
	all := append(append([]*apktest.Built{}, base...), variant[s.changed()])
	for _, b := range all {
		if err := write(filepath.Join(repo, "x86_64", fmt.Sprintf("%s-%s.apk", b.Name, b.Version)), b.APK); err != nil {
			return nil, nil, err
		}
	}
	idx, err := apktest.Index(all, key, "rules_wharf benchmark")
	if err != nil {
		return nil, nil, err
	}
	return base, variant, write(filepath.Join(repo, "x86_64", "APKINDEX.tar.gz"), idx)
}

// writeLocks writes the lock of the base packages and the one with a package changed.
func writeLocks(out string, base, variant []*apktest.Built) error {
	for name, pkgs := range map[string][]*apktest.Built{"apko.lock.json": base, "apko.changed.lock.json": variant} {
		if err := writeLock(filepath.Join(out, name), pkgs); err != nil {
			return err
		}
	}
	return nil
}

// writeScaleLocks writes s.locks locks into dir: lock_K.json holds the shared packages and the
// K-th share of the others, as a monorepo's locks differ by a few packages each;
// lock_0.changed.json is lock 0 with the changed package (a shared one) at r1.
func writeScaleLocks(dir string, base, variant []*apktest.Built, s repoShape) error {
	if s.locks == 0 {
		return nil
	}
	own := (s.packages - s.shared) / s.locks
	for k := 0; k < s.locks; k++ {
		pick := func(all []*apktest.Built) []*apktest.Built {
			l := append([]*apktest.Built{}, all[:s.shared]...)
			return append(l, all[s.shared+k*own:s.shared+(k+1)*own]...)
		}
		if err := writeLock(filepath.Join(dir, fmt.Sprintf("lock_%d.json", k)), pick(base)); err != nil {
			return err
		}
		if k == 0 {
			if err := writeLock(filepath.Join(dir, "lock_0.changed.json"), pick(variant)); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeLock writes the lock of pkgs to path, URLs relative to the directory above repo/.
func writeLock(path string, pkgs []*apktest.Built) error {
	var entries []map[string]any
	for _, b := range pkgs {
		entries = append(entries, apktest.LockPackage(b, fmt.Sprintf("repo/x86_64/%s-%s.apk", b.Name, b.Version)))
	}
	lock := map[string]any{"version": "v1", "contents": map[string]any{
		"keyring":      []map[string]string{{"name": "repo/" + keyName, "url": "repo/" + keyName}},
		"repositories": []map[string]string{{"name": "repo", "url": "repo/x86_64/APKINDEX.tar.gz", "architecture": "x86_64"}},
		"packages":     entries,
	}}
	b, err := json.MarshalIndent(lock, "", "  ")
	if err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	return write(path, b)
}

// writeApkoYAML writes the apko configuration of the base packages, for apko's side.
func writeApkoYAML(out string, base []*apktest.Built) error {
	abs, _ := filepath.Abs(out)
	var names []string
	for _, b := range base {
		names = append(names, "    - "+b.Name+"="+b.Version)
	}
	apko := fmt.Sprintf("contents:\n  repositories:\n    - %s/repo\n  keyring:\n    - %s/repo/%s\n  packages:\n%s\narchs:\n  - x86_64\n",
		abs, abs, keyName, strings.Join(names, "\n"))
	return write(filepath.Join(out, "apko.yaml"), []byte(apko))
}

// writeBig writes dir/file, 1 GiB of r's content.
func writeBig(dir string, r *rand.Rand) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "file"))
	if err != nil {
		return err
	}
	for i := 0; i < 1024; i++ {
		if _, err := f.Write(content(r, 1<<20)); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// writeSmall writes 100,000 small files in 100 directories.
func writeSmall(dir string) error {
	for i := 0; i < 100000; i++ {
		p := filepath.Join(dir, fmt.Sprintf("d%03d", i/1000), fmt.Sprintf("f%05d.txt", i))
		if err := write(p, []byte(fmt.Sprintf("small file %d\n", i))); err != nil {
			return err
		}
	}
	return nil
}

// writeGoBin writes a Go program that embeds 30 MiB of r's content.
func writeGoBin(dir string, r *rand.Rand) error {
	if err := write(filepath.Join(dir, "payload.bin"), content(r, 30<<20)); err != nil {
		return err
	}
	if err := write(filepath.Join(dir, "go.mod"), []byte("module benchbin\n\ngo 1.22\n")); err != nil {
		return err
	}
	return write(filepath.Join(dir, "main.go"), []byte("package main\n\nimport (\n\t_ \"embed\"\n\t\"fmt\"\n)\n\n//go:embed payload.bin\nvar payload []byte\n\nfunc main() { fmt.Println(len(payload)) }\n"))
}
