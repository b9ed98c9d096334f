// Command release builds rules_wharf's release artifacts into an empty directory:
//
//	go run ./tools/dev/release -version 1.2.3 -out dist/
//
// writes
//
//	wharf-<goos>-<goarch>[.exe]   the tool, one per platform (-trimpath, CGO_ENABLED=0,
//	                              -buildvcs=false, `wharf version` says the version)
//	versions.bzl                  the table the wharf toolchain extension downloads from
//	rules_wharf-v<version>.tar.gz the source archive a MODULE.bazel points at, with that
//	                              versions.bzl in place of the checked-in one
//	SHA256SUMS                    sha256sum's format, every file above
//
// Building twice from the same commit with the same Go gives the same bytes: archive
// entries are sorted, with a fixed mtime and owner, and gzip writes no name or time.
// The binaries are uploaded as the assets of the tag v<version>, under -base-url.
//
// It is a Go program, not a shell script, so that the archive's determinism depends on no
// host's tar or gzip, and its parts are tested (release_test.go; e2e/release_test.go builds
// twice and compares).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	var c config
	var platforms string
	fs.StringVar(&c.version, "version", "", "the release version, e.g. 1.2.3 (the tag is v<version>)")
	fs.StringVar(&c.out, "out", "", "directory to write the artifacts to (created; must be empty if it exists)")
	fs.StringVar(&platforms, "platforms", defaultPlatforms, "comma-separated GOOS/GOARCH pairs to build the tool for")
	fs.StringVar(&c.baseURL, "base-url", defaultBaseURL, "where the tag directories are served (the default of the toolchain extension's base_url)")
	fs.StringVar(&c.root, "root", ".", "the rules_wharf checkout to build")
	fs.BoolVar(&c.allowDirty, "allow-dirty", false, "build a checkout with uncommitted changes to tracked files (tests only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if c.platforms, err = parsePlatforms(platforms); err != nil {
		return fmt.Errorf("-platforms: %w", err)
	}
	return release(c)
}
