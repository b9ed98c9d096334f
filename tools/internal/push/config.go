package push

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
)

// Config is what `wharf push` is told: its flags (RegisterFlags), then, for what they
// leave out, the environment ($WHARF_BAZELRC, $WHARF_BAZEL_CONFIG,
// $WHARF_CREDENTIAL_HELPERS, StallTimeoutEnv) and the user's .bazelrc files. Options
// resolves them in that order.
type Config struct {
	plans, tags, headers, configs, helpers, userRC cli.Strings
	execroot, repository, registry, progress       string
	remote                                         RemoteCache
	diskCache                                      string
	noRC                                           bool
	jobs                                           int
	stall                                          time.Duration
	sig                                            signFlags
	// fs holds the flags once parsed: which were given, what follows them.
	fs *flag.FlagSet
}

// RegisterFlags declares push's flags on fs; Options reads them once fs has parsed.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.fs = fs
	c.planFlags(fs)
	c.cacheFlags(fs)
	c.bazelFlags(fs)
	c.sig.register(fs)
	fs.StringVar(&c.progress, "progress", "auto", "progress line: auto (on a terminal), always, never")
	fs.IntVar(&c.jobs, "jobs", 8, "blobs moved at once")
	fs.DurationVar(&c.stall, "stall-timeout", DefaultStallTimeout,
		"fail a registry request that makes no progress (no request body bytes sent, no response bytes received) for this long; "+
			"a stalled request is retried like a reset connection; not a limit on total time; 0 disables; "+
			"when the flag is not given, $"+StallTimeoutEnv+" (a Go duration such as 2m) if set, else 60s")
}

// planFlags declares what to push and where.
func (c *Config) planFlags(fs *flag.FlagSet) {
	fs.Var(&c.plans, "plan", "a push plan written by oci_push (repeatable: oci_push_all pushes several)")
	fs.StringVar(&c.execroot, "execroot", "", "the execution root, where layers the build left on this machine are")
	fs.StringVar(&c.repository, "repository", "", "registry/repository to push to (overrides the rule's; one image only)")
	fs.StringVar(&c.registry, "registry", "", "push every image to this registry (host[:port]) instead of its repository's")
	fs.Var(&c.tags, "tag", "tag to apply (repeatable; replaces the rule's tags; one image only)")
}

// cacheFlags declares the caches layers are taken from.
func (c *Config) cacheFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.remote.URL, "remote-cache", "", "Bazel remote cache to take layers from (grpc://, grpcs://, http://, https://); default: the .bazelrc files' --remote_cache or --remote_executor")
	fs.StringVar(&c.remote.InstanceName, "remote-instance-name", "", "the remote cache's instance name (default: the .bazelrc files')")
	fs.Var(&c.headers, "remote-header", "NAME=VALUE header for the remote cache (repeatable; default: the .bazelrc files')")
	fs.StringVar(&c.remote.TLSCA, "tls-certificate", "", "PEM file of CAs the remote cache's certificate is checked against")
	fs.StringVar(&c.remote.TLSCert, "tls-client-certificate", "", "client certificate for the remote cache")
	fs.StringVar(&c.remote.TLSKey, "tls-client-key", "", "client key for the remote cache")
	fs.StringVar(&c.diskCache, "disk-cache", "", "Bazel --disk_cache directory to take layers from (default: the .bazelrc files')")
}

// bazelFlags declares which .bazelrc files and credential helpers the build used.
func (c *Config) bazelFlags(fs *flag.FlagSet) {
	fs.Var(&c.configs, "bazel-config", "a --config of the .bazelrc files the build used (repeatable; also $WHARF_BAZEL_CONFIG, comma-separated)")
	fs.Var(&c.userRC, "bazelrc", "an rc file the build gave Bazel with --bazelrc, read instead of ~/.bazelrc as Bazel does "+
		"(repeatable; also $WHARF_BAZELRC, a list of files separated by "+string(os.PathListSeparator)+")")
	fs.BoolVar(&c.noRC, "no-bazelrc", false, "read no .bazelrc file")
	fs.Var(&c.helpers, "credential-helper", "[SCOPE=]PATH of a Bazel credential helper for registries and the remote cache "+
		"(repeatable; also $"+credentials.EnvHelpers+" and the .bazelrc files' --credential_helper)")
}

// Run pushes what the flags say: the refs pushed go to stdout, the progress line and the
// summary of several images to stderr. It fails if any image was not pushed.
func (c *Config) Run(ctx context.Context, stdout, stderr io.Writer) error {
	reqs, opts, err := c.Options()
	if err != nil {
		return err
	}
	if opts.Progress, err = c.progressTo(stderr); err != nil {
		return err
	}
	if opts.Signing == nil {
		warnUnsigned(stderr, reqs)
	}
	results, err := Push(ctx, reqs, opts)
	for _, r := range results {
		if r.Status == Pushed {
			fmt.Fprintln(stdout, r.Ref.String())
		}
		if r.Signed > 0 {
			fmt.Fprintf(stderr, "push: signed %s: %d manifest(s), %d attestation(s)\n", r.Ref, r.Signed, r.Attested)
		}
	}
	if err != nil && len(results) < 2 {
		return err // one image: the error is its outcome
	}
	WriteSummary(stderr, results)
	return notPushed(results)
}

// Options checks the flags and resolves them with the environment and the .bazelrc
// files into what to push and how.
func (c *Config) Options() ([]Request, Options, error) {
	if n := c.fs.NArg(); n > 0 {
		// A value with spaces given unquoted (--remote-header=Authorization=Bearer TOKEN)
		// leaves its secret part here.
		return nil, Options{}, fmt.Errorf("unexpected arguments after the flags (%d, not shown: one may be part of a secret); quote a flag's value that holds spaces", n)
	}
	idle, err := StallTimeout(c.stall, c.given("stall-timeout"))
	if err != nil {
		return nil, Options{}, err
	}
	if err := c.checkTargets(); err != nil {
		return nil, Options{}, err
	}
	reqs, err := c.requests()
	if err != nil {
		return nil, Options{}, err
	}
	opts, err := c.options()
	if err != nil {
		return nil, Options{}, err
	}
	if opts.Signing, err = c.sig.signing(reqs); err != nil {
		return nil, Options{}, err
	}
	opts.Stall = idle
	return reqs, opts, nil
}

// checkTargets checks the flags that name images, tags and the remote cache's headers
// before any plan or rc file is read.
func (c *Config) checkTargets() error {
	if len(c.plans) == 0 {
		return errors.New("--plan is required")
	}
	if len(c.plans) > 1 && (c.repository != "" || len(c.tags) > 0) {
		return fmt.Errorf("--repository and --tag name one image's repository and tags; this target pushes %d images (--registry moves them all to another registry)", len(c.plans))
	}
	for _, t := range c.tags {
		if err := CheckTag(t); err != nil {
			return err
		}
	}
	c.remote.Headers = http.Header{}
	for _, h := range c.headers {
		k, v, err := ParseRemoteHeader(h)
		if err != nil {
			return fmt.Errorf("--remote-header %w", err)
		}
		c.remote.Headers.Add(k, v)
	}
	return nil
}

// options resolves the sources and credentials.
func (c *Config) options() (Options, error) {
	settings, helpers, err := c.settingsAndHelpers()
	if err != nil {
		return Options{}, err
	}
	c.remote.Helpers = helpers
	sources, err := c.sources(settings)
	if err != nil {
		return Options{}, err
	}
	return Options{Sources: sources, Jobs: c.jobs, Keychain: credentials.Keychain(helpers)}, nil
}

// settingsAndHelpers reads the .bazelrc files' settings and the credential helpers they,
// the environment and the flags name.
func (c *Config) settingsAndHelpers() (BazelSettings, []credentials.Helper, error) {
	settings, err := c.bazelSettings()
	if err != nil {
		return settings, nil, err
	}
	helpers, err := c.credentialHelpers(settings.CredentialHelpers)
	return settings, helpers, err
}

// progressTo is where --progress sends the progress line: w, if a terminal for auto;
// nil for none.
func (c *Config) progressTo(w io.Writer) (io.Writer, error) {
	switch c.progress {
	case "always":
		return w, nil
	case "auto":
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				return w, nil
			}
		}
		return nil, nil
	case "never":
		return nil, nil
	}
	return nil, fmt.Errorf("--progress %q: want auto, always or never", c.progress)
}

// notPushed names the images of several that were not pushed, whose reasons the summary
// gave; nil when every one was.
func notPushed(results []Result) error {
	var names []string
	for _, r := range results {
		if r.Status != Pushed {
			names = append(names, r.Label+" "+r.Status.String())
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d images not pushed: %s (every image's outcome is above)", len(names), len(results), strings.Join(names, ", "))
}

// requests reads the plans and applies the command line's repository, registry and tags.
func (c *Config) requests() ([]Request, error) {
	var reqs []Request
	for _, p := range c.plans {
		t, err := ReadPlan(p, ".", c.execroot)
		if err != nil {
			return nil, err
		}
		repo, err := c.repositoryOf(t)
		if err != nil {
			return nil, err
		}
		tags := t.Tags
		if len(c.tags) > 0 {
			tags = c.tags
		}
		for _, tag := range tags {
			if err := CheckTag(tag); err != nil {
				return nil, fmt.Errorf("%s: %w", t.Label, err)
			}
		}
		if err := t.checkAttestations(); err != nil {
			return nil, err
		}
		reqs = append(reqs, Request{Target: t, Repository: repo, Tags: tags})
	}
	return reqs, nil
}

// repositoryOf is where t goes: the rule's repository, or --repository, moved to
// --registry.
func (c *Config) repositoryOf(t *Target) (name.Repository, error) {
	repoName := t.Repository
	if c.repository != "" {
		repoName = c.repository
	}
	if repoName == "" {
		return name.Repository{}, fmt.Errorf("%s has no repository: set `repository` on the rule or give --repository HOST/NAME", t.Label)
	}
	repo, err := name.NewRepository(repoName)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%s: repository %q: %w", t.Label, repoName, err)
	}
	if c.registry != "" {
		if repo, err = name.NewRepository(c.registry + "/" + repo.RepositoryStr()); err != nil {
			return name.Repository{}, fmt.Errorf("--registry %q: %w", c.registry, err)
		}
	}
	return repo, nil
}

// bazelSettings reads the user's .bazelrc files (none with --no-bazelrc; $WHARF_BAZELRC's,
// then --bazelrc's, instead of ~/.bazelrc), applying --bazel-config and $WHARF_BAZEL_CONFIG.
func (c *Config) bazelSettings() (BazelSettings, error) {
	if c.noRC {
		return BazelSettings{}, nil
	}
	var user []string
	for _, f := range filepath.SplitList(os.Getenv("WHARF_BAZELRC")) {
		if f != "" {
			user = append(user, f)
		}
	}
	user = append(user, c.userRC...)
	configs := append([]string(nil), c.configs...)
	if v := os.Getenv("WHARF_BAZEL_CONFIG"); v != "" {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				configs = append(configs, name)
			}
		}
	}
	home, _ := os.UserHomeDir()
	return ReadBazelrc("/etc/bazel.bazelrc", os.Getenv("BUILD_WORKSPACE_DIRECTORY"), home, user, configs)
}

// credentialHelpers are the Bazel credential helpers of the rc files, then
// $WHARF_CREDENTIAL_HELPERS's, then the flags' (a later one for the same scope wins).
func (c *Config) credentialHelpers(fromRC []string) ([]credentials.Helper, error) {
	ws := os.Getenv("BUILD_WORKSPACE_DIRECTORY")
	rc, err := credentials.ParseHelpers(fromRC, ws)
	if err != nil {
		return nil, fmt.Errorf(".bazelrc: %w", err)
	}
	env, err := credentials.HelpersFromEnv(ws)
	if err != nil {
		return nil, err
	}
	given, err := credentials.ParseHelpers(c.helpers, ws)
	if err != nil {
		return nil, err
	}
	return append(append(rc, env...), given...), nil
}

// sources returns the caches to take layers from: the flags' where given, else what
// the user's .bazelrc files give Bazel.
func (c *Config) sources(s BazelSettings) ([]Source, error) {
	rc := c.remote
	if !c.given("remote-cache") && s.RemoteCache.URL != "" {
		rc = refine(s.RemoteCache, c.remote)
	}
	diskCache := c.diskCache
	if !c.given("disk-cache") {
		diskCache = s.DiskCache
	}
	var sources []Source
	if rc.URL != "" {
		src, err := NewRemoteCacheSource(rc)
		if err != nil {
			return nil, err
		}
		sources = append(sources, src)
	}
	if diskCache != "" {
		sources = append(sources, DiskCacheSource(diskCache))
	}
	return sources, nil
}

// refine is the rc files' remote cache with what the flags give about it.
func refine(from, flags RemoteCache) RemoteCache {
	if flags.InstanceName != "" {
		from.InstanceName = flags.InstanceName
	}
	for k, vs := range flags.Headers {
		from.Headers[k] = vs
	}
	if flags.TLSCA != "" {
		from.TLSCA = flags.TLSCA
	}
	if flags.TLSCert != "" {
		from.TLSCert, from.TLSKey = flags.TLSCert, flags.TLSKey
	}
	from.Helpers = flags.Helpers
	return from
}

// given reports whether the command line named the flag.
func (c *Config) given(name string) bool {
	given := false
	c.fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
