// Package locker makes and checks apko locks from an apko configuration: it fetches each
// repository's signed APKINDEX per architecture, verifies it against the keyring,
// resolves the configuration's packages, fetches each resolved package to record its
// byte ranges and checksums, and renders the lock as `apko lock` does.
package locker

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/index"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/apk/resolve"
	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
	"github.com/rules-wharf/rules_wharf/tools/internal/redact"
)

// Options say what to lock.
type Options struct {
	// ConfigPath is the apko.yaml.
	ConfigPath string
	// ConfigName is recorded in the lock's config.name ("" = ConfigPath relative to Dir).
	ConfigName string
	// LockPath is where the lock goes; local repository and key paths in the lock are
	// relative to its directory.
	LockPath string
	// Dir is the directory relative repository and keyring paths of the configuration
	// are relative to (apko: its working directory). "" = the configuration's directory.
	Dir string
	// Archs overrides the configuration's architectures (any spelling apko accepts).
	Archs []string
	// PackageAppend are packages (constraints) added to the configuration's, as apko
	// build's --package-append adds them: a dev variant's lock. The lock's config checksum
	// then covers them too, so a changed list makes the lock stale.
	PackageAppend []string
	// Client fetches http(s) URLs (nil = a client with a timeout that adds credentials from
	// CredentialHelpers and the netrc file, see credentials.Transport).
	Client *http.Client
	// CredentialHelpers are Bazel credential helpers for the repositories' hosts.
	CredentialHelpers []credentials.Helper
	// Parallel bounds concurrent package fetches (0 = 8).
	Parallel int
	// Notes receives what the user should know about a lock that did not fail: that the
	// credentials in the configuration's URLs are not written into the lock (nil = none).
	Notes io.Writer
}

// input is the configuration as the lock sees it.
type input struct {
	cfg      *apkoconfig.Config
	checksum string
	name     string
	dir      string
	lockDir  string
	archs    []string
	appended []string // Options.PackageAppend
}

func load(o *Options) (*input, error) {
	// data: the bytes apko's config checksum covers (the file's, then what it includes).
	cfg, data, err := apkoconfig.LoadFiles(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	cfg.Contents.Packages = append(cfg.Contents.Packages, o.PackageAppend...)
	sum := sha256.Sum256(appended(data, o.PackageAppend))
	in := &input{cfg: cfg, checksum: "sha256-" + base64.StdEncoding.EncodeToString(sum[:]), dir: o.Dir, name: o.ConfigName, appended: o.PackageAppend}
	if in.dir == "" {
		in.dir = filepath.Dir(o.ConfigPath)
	}
	if in.name == "" {
		if in.name, err = rel(in.dir, o.ConfigPath); err != nil {
			return nil, err
		}
	}
	in.lockDir = filepath.Dir(o.LockPath)
	var archs []string
	if len(o.Archs) > 0 {
		for _, a := range o.Archs {
			pa, err := apkoconfig.ParseArch(a)
			if err != nil {
				return nil, err
			}
			archs = append(archs, pa.APK())
		}
	} else {
		for _, a := range cfg.Archs {
			archs = append(archs, a.APK())
		}
	}
	if len(archs) == 0 {
		archs = apkoconfig.AllArchs()
	}
	for _, a := range archs {
		if !slices.Contains(in.archs, a) {
			in.archs = append(in.archs, a)
		}
	}
	if len(cfg.Contents.Packages) == 0 {
		return nil, fmt.Errorf("%s: contents.packages is empty: nothing to lock", o.ConfigPath)
	}
	return in, nil
}

// appended is what a lock's config checksum covers: the configuration's bytes, then one
// line per appended package (none: the bytes alone, as apko records them).
func appended(data []byte, pkgs []string) []byte {
	if len(pkgs) == 0 {
		return data
	}
	b := slices.Clone(data)
	for _, p := range pkgs {
		b = append(b, "\n# --package-append "+p...)
	}
	return b
}

func rel(base, target string) (string, error) {
	ab, err := filepath.Abs(base)
	if err != nil {
		return "", err
	}
	at, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	r, err := filepath.Rel(ab, at)
	return filepath.ToSlash(r), err
}

// isRemote reports whether a location is a URL (http, https, file) rather than a path.
func isRemote(loc string) bool {
	return strings.HasPrefix(loc, "https://") || strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "file://")
}

// splitTag splits "@tag location" into its tag and location.
func splitTag(repo string) (tag, loc string, err error) {
	if !strings.HasPrefix(repo, "@") {
		return "", repo, nil
	}
	f := strings.Fields(repo)
	if len(f) != 2 || len(f[0]) < 2 {
		return "", "", fmt.Errorf("repository %q: want \"@tag location\"", repo)
	}
	return f[0][1:], f[1], nil
}

func stripScheme(u string) string {
	return strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
}

// inLock renders a configuration location as the lock records it: URLs as they are; local
// paths as written when the lock sits in Dir (as apko does), else rebased onto the lock's
// directory.
func (in *input) inLock(loc string) (string, error) {
	if isRemote(loc) {
		return withoutUserinfo(loc), nil
	}
	if filepath.IsAbs(loc) {
		return loc, nil
	}
	if same, err := sameDir(in.dir, in.lockDir); err != nil {
		return "", err
	} else if same {
		return loc, nil
	}
	return rel(in.lockDir, filepath.Join(in.dir, filepath.FromSlash(loc)))
}

// withoutUserinfo is a URL without its `user:password@`: a lock is committed and shared,
// so credentials stay out of it (the build takes them from netrc or a credential helper).
func withoutUserinfo(loc string) string { return redact.WithoutUserinfo(loc) }

// hasUserinfo reports whether loc is a URL with credentials in it.
func hasUserinfo(loc string) bool { return withoutUserinfo(loc) != loc }

// noteCredentials tells the user, once, that the configuration's URL credentials were
// used but not recorded, and where the build's credentials go instead.
func (in *input) noteCredentials(w io.Writer, configPath string) {
	var with []string
	c := in.cfg.Contents
	for _, line := range slices.Concat(c.Repositories, c.BuildRepositories, c.RuntimeRepositories, c.Keyring) {
		if _, loc, err := splitTag(line); err == nil && hasUserinfo(loc) && !slices.Contains(with, redact.URL(loc)) {
			with = append(with, redact.URL(loc))
		}
	}
	if w == nil || len(with) == 0 {
		return
	}
	u, _ := url.Parse(with[0])
	fmt.Fprintf(w, "%s: the credentials in %s were used to lock but are not written into the lock; builds fetch with those of ~/.netrc ($NETRC), as `machine %s login USER password PASSWORD`, or of a Bazel credential helper (--credential_helper)\n",
		configPath, strings.Join(with, ", "), u.Hostname())
}

func sameDir(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	ab, err := filepath.Abs(b)
	return aa == ab, err
}

// lockRepos renders the repository sections for one architecture as apko does.
func (in *input) lockRepos(repos []string, arch string) ([]lockfile.Repo, error) {
	var out []lockfile.Repo
	for _, r := range repos {
		tag, loc, err := splitTag(r)
		if err != nil {
			return nil, err
		}
		loc, err = in.inLock(loc)
		if err != nil {
			return nil, err
		}
		base := loc + "/" + arch
		name := stripScheme(base)
		if tag != "" {
			name = base
		}
		out = append(out, lockfile.Repo{Name: name, URL: base + "/APKINDEX.tar.gz", Architecture: arch})
	}
	return out, nil
}

// skeleton is the part of the lock the configuration alone decides: config, keyring and
// repositories.
func (in *input) skeleton() (*lockfile.Lock, error) {
	l := &lockfile.Lock{Version: "v1", Config: &lockfile.Config{Name: in.name, Checksum: in.checksum}}
	c := &l.Contents
	for _, k := range in.cfg.Contents.Keyring {
		u, err := in.inLock(k)
		if err != nil {
			return nil, err
		}
		c.Keyring = append(c.Keyring, lockfile.Keyring{Name: stripScheme(u), URL: u})
	}
	sort.SliceStable(c.Keyring, func(i, j int) bool { return c.Keyring[i].Name < c.Keyring[j].Name })
	for _, arch := range in.archs {
		for _, s := range []struct {
			repos []string
			dst   *[]lockfile.Repo
		}{{in.cfg.Contents.BuildRepositories, &c.BuildRepositories}, {in.cfg.Contents.RuntimeRepositories, &c.RuntimeRepositories}, {in.cfg.Contents.Repositories, &c.Repositories}} {
			r, err := in.lockRepos(s.repos, arch)
			if err != nil {
				return nil, err
			}
			*s.dst = append(*s.dst, r...)
		}
	}
	return l, nil
}

// fetcher opens locations: http(s) and file URLs, and paths relative to dir.
type fetcher struct {
	dir    string
	client *http.Client
}

func (f *fetcher) open(loc string) (io.ReadCloser, error) {
	switch {
	case strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://"):
		resp, err := f.client.Get(loc)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			resp.Body.Close()
			how := "none were sent: give them in ~/.netrc ($NETRC) as `machine " + resp.Request.URL.Hostname() + " login USER password PASSWORD`, or with a Bazel credential helper (--credential_helper, $" + credentials.EnvHelpers + ")"
			if hasUserinfo(loc) {
				how = "the credentials in the URL were refused"
			} else if resp.Request.Header.Get("Authorization") != "" {
				how = "the credentials sent (from the credential helper or netrc entry for " + resp.Request.URL.Host + ") were refused"
			}
			return nil, fmt.Errorf("GET %s: %s: the repository wants credentials, and %s", loc, resp.Status, how)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %s", loc, resp.Status)
		}
		return resp.Body, nil
	case strings.HasPrefix(loc, "file://"):
		u, err := url.Parse(loc)
		if err != nil {
			return nil, err
		}
		return os.Open(u.Path)
	case filepath.IsAbs(loc):
		return os.Open(loc)
	}
	return os.Open(filepath.Join(f.dir, filepath.FromSlash(loc)))
}

// readAll reads loc whole, failing past limit bytes.
func (f *fetcher) readAll(loc string, limit int64) ([]byte, error) {
	r, err := f.open(loc)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return apkfile.ReadLimited(r, limit, loc)
}

// Generate makes the lock and returns its bytes. Its errors show URLs' userinfo masked.
func Generate(o Options) ([]byte, error) {
	b, err := generate(o)
	return b, redact.Error(err)
}

func generate(o Options) ([]byte, error) {
	in, err := load(&o)
	if err != nil {
		return nil, err
	}
	f, err := newFetcher(in.dir, o)
	if err != nil {
		return nil, err
	}
	l, err := in.skeleton()
	if err != nil {
		return nil, err
	}
	if err := in.embedKeys(f, l); err != nil {
		return nil, err
	}
	ring, err := f.keyring(in.cfg.Contents.Keyring)
	if err != nil {
		return nil, err
	}
	repoLines, err := in.repoLines()
	if err != nil {
		return nil, err
	}
	for _, arch := range in.archs {
		repos, locs, err := f.repositories(repoLines, arch, ring)
		if err != nil {
			return nil, err
		}
		res, err := resolve.Resolve(repos, in.cfg.Contents.Packages)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arch, err)
		}
		pkgs, err := in.lockAll(f, res.Packages, locs, arch, ring, o.Parallel)
		if err != nil {
			return nil, err
		}
		l.Contents.Packages = append(l.Contents.Packages, pkgs...)
	}
	in.noteCredentials(o.Notes, o.ConfigPath)
	return lockfile.Marshal(l)
}

// newFetcher reads from dir, over o.Client or else a client with ~/.netrc and the
// credential helpers.
func newFetcher(dir string, o Options) (*fetcher, error) {
	client := o.Client
	if client == nil {
		netrc, err := credentials.LoadNetrc()
		if err != nil {
			return nil, err
		}
		client = &http.Client{Timeout: 10 * time.Minute, Transport: credentials.Transport(nil, o.CredentialHelpers, netrc)}
	}
	return &fetcher{dir: dir, client: client}, nil
}

// keyring reads the keys that verify the repositories' APKINDEX signatures.
func (f *fetcher) keyring(keys []string) (apkfile.Keyring, error) {
	ring := apkfile.Keyring{}
	for _, k := range keys {
		b, err := f.readAll(k, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("keyring %s: %w", k, err)
		}
		if err := ring.AddPEM(path.Base(k), b); err != nil {
			return nil, fmt.Errorf("keyring %s: %w", k, err)
		}
	}
	if len(ring) == 0 {
		return nil, errors.New("contents.keyring is empty: no key to verify the repositories' APKINDEX signatures with")
	}
	return ring, nil
}

// repoLines are the repositories to resolve against: apko resolves against the build
// repositories and repositories, as a sorted set.
func (in *input) repoLines() ([]string, error) {
	var repoLines []string
	repoLines = append(repoLines, in.cfg.Contents.BuildRepositories...)
	repoLines = append(repoLines, in.cfg.Contents.Repositories...)
	sort.Strings(repoLines)
	repoLines = slices.Compact(repoLines)
	if len(repoLines) == 0 {
		return nil, errors.New("contents.repositories is empty: nowhere to find packages")
	}
	return repoLines, nil
}

// repositories reads and verifies each repository's APKINDEX for arch; locs gives each
// repository's location without its tag.
func (f *fetcher) repositories(repoLines []string, arch string, ring apkfile.Keyring) ([]*resolve.Repository, map[*resolve.Repository]string, error) {
	var repos []*resolve.Repository
	locs := map[*resolve.Repository]string{}
	for _, line := range repoLines {
		tag, loc, err := splitTag(line)
		if err != nil {
			return nil, nil, err
		}
		idx, err := f.index(loc, arch, ring)
		if err != nil {
			return nil, nil, fmt.Errorf("repository %s (%s): %w", loc, arch, err)
		}
		r := &resolve.Repository{Name: loc, Pin: tag, Entries: idx.Entries}
		repos = append(repos, r)
		locs[r] = loc
	}
	return repos, locs, nil
}

// index reads the repository's APKINDEX for arch and checks its signature.
func (f *fetcher) index(loc, arch string, ring apkfile.Keyring) (*index.Index, error) {
	b, err := f.readAll(loc+"/"+arch+"/APKINDEX.tar.gz", 512<<20)
	if err != nil {
		return nil, err
	}
	idx, err := index.ParseIndex(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if _, err := idx.Verify(ring); err != nil {
		return nil, err
	}
	return idx, nil
}

// lockAll fetches and locks the resolved packages for arch, parallel at a time (8 if not
// positive), in their order.
func (in *input) lockAll(f *fetcher, resolved []*resolve.Package, locs map[*resolve.Repository]string, arch string, ring apkfile.Keyring, parallel int) ([]lockfile.Package, error) {
	pkgs := make([]lockfile.Package, len(resolved))
	errs := make([]error, len(resolved))
	if parallel <= 0 {
		parallel = 8
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, p := range resolved {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			pkgs[i], errs[i] = in.lockOne(f, locs[p.Repo], p, arch, ring)
		}()
	}
	wg.Wait()
	return pkgs, errors.Join(errs...)
}

// lockOne locks one package of the repository at repoLoc.
func (in *input) lockOne(f *fetcher, repoLoc string, p *resolve.Package, arch string, ring apkfile.Keyring) (lockfile.Package, error) {
	loc := repoLoc + "/" + arch + "/" + p.Name + "-" + p.Version + ".apk"
	lp, err := lockPackage(f, loc, p, ring)
	if err != nil {
		return lp, fmt.Errorf("package %s (%s) from %s: %w", p.Label(), arch, loc, err)
	}
	lp.Architecture = arch
	lp.URL, err = in.inLock(loc)
	return lp, err
}

// lockPackage fetches a package and records its members' ranges and checksums, after
// checking it is the package the index describes.
func lockPackage(f *fetcher, loc string, p *resolve.Package, ring apkfile.Keyring) (lockfile.Package, error) {
	r, err := f.open(loc)
	if err != nil {
		return lockfile.Package{}, err
	}
	defer r.Close()
	// The signature member's bytes are kept as they stream by (it is small); the data
	// member is hashed as it streams, never held.
	var head bytes.Buffer
	h, rest, err := apkfile.ReadHead(io.TeeReader(r, &limitedBuffer{b: &head, max: 64 << 20}))
	if err != nil {
		return lockfile.Package{}, err
	}
	if h.PkgInfo.Name != p.Name || h.PkgInfo.Version != p.Version {
		return lockfile.Package{}, fmt.Errorf(".PKGINFO says %s-%s", h.PkgInfo.Name, h.PkgInfo.Version)
	}
	if want := p.Checksum; want != "" && want != "Q1"+base64.StdEncoding.EncodeToString(h.ControlSHA1()) {
		return lockfile.Package{}, fmt.Errorf("control member sha1 Q1%s differs from the APKINDEX's %s (index and package out of step)",
			base64.StdEncoding.EncodeToString(h.ControlSHA1()), want)
	}
	if len(h.Signatures) > 0 {
		if _, err := ring.VerifySignature(h.Signatures, h.Control); err != nil {
			return lockfile.Package{}, err
		}
	}
	data, err := rest.CopyData(nil, 64<<30)
	if err != nil {
		return lockfile.Package{}, err
	}
	if h.PkgInfo.DataHash != "" {
		want, err := apkfile.HexDataHash(h.PkgInfo.DataHash)
		if err != nil {
			return lockfile.Package{}, err
		}
		if !bytes.Equal(want, data.SHA256) {
			return lockfile.Package{}, fmt.Errorf("data member sha256 %x does not match .PKGINFO datahash %s", data.SHA256, h.PkgInfo.DataHash)
		}
	}
	sigSize, ctlSize := h.SignatureSize, int64(len(h.Control))
	b64 := base64.StdEncoding.EncodeToString
	rng := func(from, size int64) string { return fmt.Sprintf("bytes=%d-%d", from, from+size-1) }
	ctlSum := h.ControlSHA1()
	lp := lockfile.Package{
		Name:     p.Name,
		Version:  p.Version,
		Control:  lockfile.Range{Range: rng(sigSize, ctlSize), Checksum: "sha1-" + b64(ctlSum)},
		Data:     lockfile.Range{Range: rng(sigSize+ctlSize, data.Size), Checksum: "sha256-" + b64(data.SHA256)},
		Checksum: "Q1" + b64(ctlSum),
	}
	if sigSize > 0 {
		if int64(head.Len()) < sigSize {
			return lockfile.Package{}, errors.New("signature member larger than the bytes kept")
		}
		s := sha1.Sum(head.Bytes()[:sigSize])
		lp.Signature = lockfile.Range{Range: rng(0, sigSize), Checksum: "sha1-" + b64(s[:])}
	}
	return lp, nil
}

// limitedBuffer keeps the first max bytes written and drops the rest.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		if len(p) > room {
			l.b.Write(p[:room])
		} else {
			l.b.Write(p)
		}
	}
	return len(p), nil
}
