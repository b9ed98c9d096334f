// Command fixturegen writes the example APK repository: a test signing key, signed APKs for
// x86_64 and aarch64 and a signed APKINDEX per architecture. Its output is deterministic
// for a given key (RSA PKCS#1 v1.5 signatures are), so `fixturegen -check` proves the
// committed files are what this program makes.
//
//	go run ./tools/internal/apk/apktest/fixturegen -out examples/apk_repo
//
// The example lock is not written here: `bazel run //examples/hello_image:lock` resolves
// examples/hello_image/apko.yaml against this repository (tools/internal/apk/locker).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

const keyName = "wharf-example.rsa.pub"

var archs = []string{"x86_64", "aarch64"}

func packages(arch string) []apktest.Package {
	return []apktest.Package{
		{
			Name: "wharf-baselayout", Version: "1.0.0-r0", Arch: arch, Origin: "wharf-baselayout",
			Description: "example base layout", License: "Apache-2.0", BuildDate: 1700000000,
			Files: []apktest.File{
				{Path: "etc", Dir: true}, {Path: "tmp", Dir: true, Mode: 0o1777}, {Path: "var", Dir: true},
				{Path: "etc/os-release", Content: "ID=wharf\nNAME=\"rules_wharf example\"\n"},
				{Path: "etc/motd", Content: "base motd\n"},
			},
		},
		{
			Name: "wharf-motd", Version: "2.1.0-r1", Arch: arch, Origin: "wharf-motd",
			Description: "example message of the day", License: "MIT", BuildDate: 1700000100,
			Depends: []string{"wharf-baselayout"}, Replaces: []string{"wharf-baselayout"},
			Files: []apktest.File{
				{Path: "etc", Dir: true},
				{Path: "etc/motd", Content: "Welcome to a rules_wharf image.\n"},
			},
		},
		{
			Name: "wharf-greeting", Version: "0.3.0-r2", Arch: arch, Origin: "wharf-greeting",
			Description: "example data file", License: "MIT", BuildDate: 1700000200,
			SHA256Signature: true,
			Files: []apktest.File{
				{Path: "usr", Dir: true}, {Path: "usr/share", Dir: true}, {Path: "usr/share/wharf", Dir: true},
				{Path: "usr/share/wharf/greeting.txt", Content: "hello from an apk (" + arch + ")\n"},
			},
		},
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fixturegen:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("out", "examples/apk_repo", "repository directory")
	check := flag.Bool("check", false, "compare with the files on disk instead of writing")
	flag.Parse()
	files, err := generate(*out, !*check)
	if err != nil {
		return err
	}
	if *check {
		if stale := compare(files); len(stale) > 0 {
			return fmt.Errorf("stale fixtures (regenerate with go run ./tools/internal/apk/apktest/fixturegen): %v", stale)
		}
		return nil
	}
	for path, data := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// compare returns the paths whose content on disk differs from files.
func compare(files map[string][]byte) []string {
	var stale []string
	for path, want := range files {
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			stale = append(stale, path)
		}
	}
	sort.Strings(stale)
	return stale
}

// generate returns every fixture file by path. The signing key is read from out; a new one
// is made only when allowed and none exists.
func generate(out string, newKey bool) (map[string][]byte, error) {
	keyPath := filepath.Join(out, "wharf-example.rsa")
	keyPEM, err := os.ReadFile(keyPath)
	var key *apktest.Key
	switch {
	case err == nil:
		if key, err = apktest.ParseKey(keyName, keyPEM); err != nil {
			return nil, fmt.Errorf("%s: %w", keyPath, err)
		}
	case errors.Is(err, os.ErrNotExist) && newKey:
		if key, err = apktest.NewKey(keyName); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	files := map[string][]byte{
		keyPath:                     key.PrivatePEM(),
		filepath.Join(out, keyName): key.PublicPEM(),
	}
	for _, arch := range archs {
		var built []*apktest.Built
		for _, p := range packages(arch) {
			b, err := apktest.Build(p, key)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.Name, err)
			}
			built = append(built, b)
			file := filepath.Join(out, arch, fmt.Sprintf("%s-%s.apk", p.Name, p.Version))
			files[file] = b.APK
		}
		idx, err := apktest.Index(built, key, "rules_wharf example repository")
		if err != nil {
			return nil, err
		}
		files[filepath.Join(out, arch, "APKINDEX.tar.gz")] = idx
	}
	return files, nil
}
