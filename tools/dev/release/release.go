package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

const (
	// Every platform `go build` gives a working wharf for; the toolchain extension maps
	// each to exec constraints through //platforms:platforms.bzl.
	defaultPlatforms = "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64"
	// GitHub's release assets of the modules' repository.
	defaultBaseURL = "https://github.com/rules-wharf/rules_wharf/releases/download"
	// Stamped by -X; tools/internal/verbs/version.go declares it.
	versionVar = "github.com/rules-wharf/rules_wharf/tools/internal/verbs.Version"
	// The table in a checkout (empty: no prebuilt tool) that the archive replaces.
	versionsPath = "toolchain/private/versions.bzl"
)

type config struct {
	version, out, baseURL, root string
	platforms                   []platform
	allowDirty                  bool
}

type platform struct{ goos, goarch string }

// file is the name of the platform's binary in the release.
func (p platform) file() string {
	name := "wharf-" + p.goos + "-" + p.goarch
	if p.goos == "windows" {
		name += ".exe"
	}
	return name
}

var (
	// What platforms.bzl's exec_constraints maps (its _EXEC_OS_CONSTRAINTS, and the OCI
	// architectures of PLATFORMS but arm, which needs a variant).
	knownOS   = []string{"darwin", "linux", "windows"}
	knownArch = []string{"386", "amd64", "arm64", "ppc64le", "riscv64", "s390x"}
	// The part of semantic versioning the Bazel Central Registry accepts without build metadata.
	versionRE  = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)
	platformRE = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+$`)
)

func parsePlatforms(s string) ([]platform, error) {
	seen := map[string]bool{}
	var ps []platform
	for _, f := range strings.Split(s, ",") {
		if !platformRE.MatchString(f) {
			return nil, fmt.Errorf("%q is not GOOS/GOARCH", f)
		}
		if seen[f] {
			return nil, fmt.Errorf("%q given twice", f)
		}
		seen[f] = true
		goos, goarch, _ := strings.Cut(f, "/")
		if !slices.Contains(knownOS, goos) || !slices.Contains(knownArch, goarch) {
			return nil, fmt.Errorf("%q: the toolchain extension has exec constraints (//platforms:platforms.bzl) for GOOS %s and GOARCH %s only", f, strings.Join(knownOS, ", "), strings.Join(knownArch, ", "))
		}
		ps = append(ps, platform{goos, goarch})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].file() < ps[j].file() })
	return ps, nil
}

// release writes every artifact into a temporary directory beside c.out and renames it to
// c.out only when all of them were written: a failed release leaves no partial directory.
func release(c config) error {
	if !versionRE.MatchString(c.version) {
		return fmt.Errorf("-version %q: want MAJOR.MINOR.PATCH[-PRERELEASE], e.g. 1.2.3", c.version)
	}
	if c.out == "" {
		return errors.New("-out: required")
	}
	if !strings.HasPrefix(c.baseURL, "https://") && !strings.HasPrefix(c.baseURL, "http://") {
		return fmt.Errorf("-base-url %q: want an http(s):// URL", c.baseURL)
	}
	if entries, err := os.ReadDir(c.out); err == nil {
		if len(entries) != 0 {
			return fmt.Errorf("-out %s: not empty (a release is written whole into a new directory)", c.out)
		}
		if err := os.Remove(c.out); err != nil {
			return fmt.Errorf("-out %s: %w", c.out, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("-out %s: %w", c.out, err)
	}
	files, err := trackedFiles(c.root, c.allowDirty)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(c.out)), 0o755); err != nil {
		return fmt.Errorf("-out %s: %w", c.out, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(c.out)), ".release-")
	if err != nil {
		return fmt.Errorf("-out %s: %w", c.out, err)
	}
	defer os.RemoveAll(tmp)

	goVersion, err := goEnv(c.root, "GOVERSION")
	if err != nil {
		return err
	}
	sums := map[string]string{}
	var binaries []binary
	for _, p := range c.platforms {
		path := filepath.Join(tmp, p.file())
		if err := buildTool(c.root, p, c.version, path); err != nil {
			return err
		}
		sum, err := sha256File(path)
		if err != nil {
			return err
		}
		sums[p.file()] = sum
		binaries = append(binaries, binary{p, sum})
	}
	table := renderVersions(c.version, c.baseURL, goVersion, binaries)
	if err := os.WriteFile(filepath.Join(tmp, "versions.bzl"), table, 0o644); err != nil {
		return err
	}
	sums["versions.bzl"] = sha256Hex(table)

	// The BCR's source template names it {REPO}-{TAG}.tar.gz, the tag being v<version>.
	archiveName := "rules_wharf-v" + c.version + ".tar.gz"
	archive, err := sourceArchive(c.root, "rules_wharf-"+c.version, files, map[string][]byte{versionsPath: table})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, archiveName), archive, 0o644); err != nil {
		return err
	}
	sums[archiveName] = sha256Hex(archive)
	if err := os.WriteFile(filepath.Join(tmp, "SHA256SUMS"), renderSums(sums), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.out); err != nil {
		return fmt.Errorf("-out %s: %w", c.out, err)
	}
	return nil
}

// buildTool cross-compiles wharf for p. Everything that changes the bytes is pinned here,
// not taken from the caller's environment: no cgo, baseline instruction sets, no experiments,
// and tools/go.mod alone (GOWORK=off: the module the release ships, not the workspace).
func buildTool(root string, p platform, version, out string) error {
	out, err := filepath.Abs(out) // the build runs in root/tools
	if err != nil {
		return fmt.Errorf("building wharf for %s/%s: %w", p.goos, p.goarch, err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X "+versionVar+"="+version,
		"-o", out, "./cmd/wharf")
	cmd.Dir = filepath.Join(root, "tools")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.goos, "GOARCH="+p.goarch,
		"GOAMD64=v1", "GOARM64=v8.0", "GOEXPERIMENT=", "GOFLAGS=-mod=readonly", "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building wharf for %s/%s: %w\n%s", p.goos, p.goarch, err, msg)
	}
	return nil
}

func goEnv(root, name string) (string, error) {
	cmd := exec.Command("go", "env", name)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// trackedFile is one file git tracks: its path and whether git records it executable.
type trackedFile struct {
	path       string
	executable bool
	// link is a symbolic link's target (relative, inside the repository); empty for a file.
	link string
}

// trackedFiles lists the files git tracks in root, refusing uncommitted changes to them
// (the archive must be the commit) unless allowDirty.
func trackedFiles(root string, allowDirty bool) ([]trackedFile, error) {
	status, err := gitOutput(root, "status", "--porcelain=v1", "--untracked-files=no")
	if err != nil {
		return nil, err
	}
	if len(status) != 0 && !allowDirty {
		return nil, fmt.Errorf("%s has uncommitted changes to tracked files (commit them; the archive must be a commit):\n%s", root, status)
	}
	out, err := gitOutput(root, "ls-files", "-s", "-z")
	if err != nil {
		return nil, err
	}
	var files []trackedFile
	for _, rec := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		// "<mode> <object> <stage>\t<path>"
		meta, path, ok := strings.Cut(rec, "\t")
		if !ok {
			return nil, fmt.Errorf("git ls-files in %s: unexpected record %q", root, rec)
		}
		switch mode := strings.Fields(meta)[0]; mode {
		case "100644", "100755":
			files = append(files, trackedFile{path: path, executable: mode == "100755"})
		case "120000":
			// Kept as a link, as git archive keeps it (e2e/smoke/apk_repo is one), if it
			// stays inside; checked before anything is built.
			target, err := linkTarget(root, path)
			if err != nil {
				return nil, err
			}
			files = append(files, trackedFile{path: path, link: target})
		default:
			// A submodule's files are not this repository's commit.
			return nil, fmt.Errorf("%s: git mode %s (a submodule) cannot go into the source archive", path, mode)
		}
	}
	return files, nil
}

func gitOutput(root string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), root, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func sha256File(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return sha256Hex(b), nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
