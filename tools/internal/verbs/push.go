package verbs

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
	"github.com/rules-wharf/rules_wharf/tools/internal/push"
)

func pushVerb(args []string) error {
	var plans, tags, headers, configs, helperFlags, userRC cli.Strings
	var execroot, repository, registry, progress string
	rc := push.RemoteCache{Headers: http.Header{}}
	var diskCache string
	fs := newFlags("push")
	fs.Var(&plans, "plan", "a push plan written by oci_push (repeatable: oci_push_all pushes several)")
	fs.StringVar(&execroot, "execroot", "", "the execution root, where layers the build left on this machine are")
	fs.StringVar(&repository, "repository", "", "registry/repository to push to (overrides the rule's; one image only)")
	fs.StringVar(&registry, "registry", "", "push every image to this registry (host[:port]) instead of its repository's")
	fs.Var(&tags, "tag", "tag to apply (repeatable; replaces the rule's tags; one image only)")
	fs.StringVar(&rc.URL, "remote-cache", "", "Bazel remote cache to take layers from (grpc://, grpcs://, http://, https://); default: the .bazelrc files' --remote_cache or --remote_executor")
	fs.StringVar(&rc.InstanceName, "remote-instance-name", "", "the remote cache's instance name (default: the .bazelrc files')")
	fs.Var(&headers, "remote-header", "NAME=VALUE header for the remote cache (repeatable; default: the .bazelrc files')")
	fs.StringVar(&rc.TLSCA, "tls-certificate", "", "PEM file of CAs the remote cache's certificate is checked against")
	fs.StringVar(&rc.TLSCert, "tls-client-certificate", "", "client certificate for the remote cache")
	fs.StringVar(&rc.TLSKey, "tls-client-key", "", "client key for the remote cache")
	fs.StringVar(&diskCache, "disk-cache", "", "Bazel --disk_cache directory to take layers from (default: the .bazelrc files')")
	fs.Var(&configs, "bazel-config", "a --config of the .bazelrc files the build used (repeatable; also $WHARF_BAZEL_CONFIG, comma-separated)")
	fs.Var(&userRC, "bazelrc", "an rc file the build gave Bazel with --bazelrc, read instead of ~/.bazelrc as Bazel does "+
		"(repeatable; also $WHARF_BAZELRC, a list of files separated by "+string(os.PathListSeparator)+")")
	noRC := fs.Bool("no-bazelrc", false, "read no .bazelrc file")
	fs.Var(&helperFlags, "credential-helper", "[SCOPE=]PATH of a Bazel credential helper for registries and the remote cache "+
		"(repeatable; also $"+credentials.EnvHelpers+" and the .bazelrc files' --credential_helper)")
	fs.StringVar(&progress, "progress", "auto", "progress line: auto (on a terminal), always, never")
	jobs := fs.Int("jobs", 8, "blobs moved at once")
	stall := fs.Duration("stall-timeout", push.DefaultStallTimeout,
		"fail a registry request that makes no progress (no request body bytes sent, no response bytes received) for this long; "+
			"a stalled request is retried like a reset connection; not a limit on total time; 0 disables; "+
			"when the flag is not given, $"+push.StallTimeoutEnv+" (a Go duration such as 2m) if set, else 60s")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// A value with spaces given unquoted (--remote-header=Authorization=Bearer TOKEN)
		// leaves its secret part here.
		return fmt.Errorf("unexpected arguments after the flags (%d, not shown: one may be part of a secret); quote a flag's value that holds spaces", fs.NArg())
	}
	idle, err := push.StallTimeout(*stall, flagGiven(fs, "stall-timeout"))
	if err != nil {
		return err
	}
	if len(plans) == 0 {
		return errors.New("--plan is required")
	}
	if len(plans) > 1 && (repository != "" || len(tags) > 0) {
		return fmt.Errorf("--repository and --tag name one image's repository and tags; this target pushes %d images (--registry moves them all to another registry)", len(plans))
	}
	for _, t := range tags {
		if err := push.CheckTag(t); err != nil {
			return err
		}
	}
	for _, h := range headers {
		k, v, err := push.ParseRemoteHeader(h)
		if err != nil {
			return fmt.Errorf("--remote-header %w", err)
		}
		rc.Headers.Add(k, v)
	}
	reqs, err := pushRequests(plans, execroot, repository, registry, tags)
	if err != nil {
		return err
	}
	settings, err := bazelSettings(configs, userRC, *noRC)
	if err != nil {
		return err
	}
	helpers, err := credentialHelpers(settings.CredentialHelpers, helperFlags)
	if err != nil {
		return err
	}
	rc.Helpers = helpers
	sources, err := pushSources(rc, diskCache, settings, flagGiven(fs, "remote-cache"), flagGiven(fs, "disk-cache"))
	if err != nil {
		return err
	}
	opts := push.Options{Stall: idle, Sources: sources, Jobs: *jobs, Keychain: credentials.Keychain(helpers)}
	switch progress {
	case "always":
		opts.Progress = os.Stderr
	case "auto":
		if st, err := os.Stderr.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			opts.Progress = os.Stderr
		}
	case "never":
	default:
		return fmt.Errorf("--progress %q: want auto, always or never", progress)
	}
	results, err := push.Push(context.Background(), reqs, opts)
	for _, r := range results {
		if r.Status == push.Pushed {
			fmt.Fprintln(os.Stdout, r.Ref.String())
		}
	}
	if err != nil && len(results) < 2 {
		return err // one image: the error is its outcome
	}
	push.WriteSummary(os.Stderr, results)
	return notPushed(results)
}

// notPushed names the images of several that were not pushed, whose reasons the summary
// gave; nil when every one was.
func notPushed(results []push.Result) error {
	var names []string
	for _, r := range results {
		if r.Status != push.Pushed {
			names = append(names, r.Label+" "+r.Status.String())
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d images not pushed: %s (every image's outcome is above)", len(names), len(results), strings.Join(names, ", "))
}

// pushRequests reads the plans and applies the command line's repository, registry and tags.
func pushRequests(plans []string, execroot, repository, registry string, tags []string) ([]push.Request, error) {
	var reqs []push.Request
	for _, p := range plans {
		t, err := push.ReadPlan(p, ".", execroot)
		if err != nil {
			return nil, err
		}
		repoName := t.Repository
		if repository != "" {
			repoName = repository
		}
		if repoName == "" {
			return nil, fmt.Errorf("%s has no repository: set `repository` on the rule or give --repository HOST/NAME", t.Label)
		}
		repo, err := name.NewRepository(repoName)
		if err != nil {
			return nil, fmt.Errorf("%s: repository %q: %w", t.Label, repoName, err)
		}
		if registry != "" {
			if repo, err = name.NewRepository(registry + "/" + repo.RepositoryStr()); err != nil {
				return nil, fmt.Errorf("--registry %q: %w", registry, err)
			}
		}
		rtags := t.Tags
		if len(tags) > 0 {
			rtags = tags
		}
		for _, tag := range rtags {
			if err := push.CheckTag(tag); err != nil {
				return nil, fmt.Errorf("%s: %w", t.Label, err)
			}
		}
		reqs = append(reqs, push.Request{Target: t, Repository: repo, Tags: rtags})
	}
	return reqs, nil
}

// bazelSettings reads the user's .bazelrc files (none with noRC; $WHARF_BAZELRC's, then
// userRC, instead of ~/.bazelrc), applying configs and $WHARF_BAZEL_CONFIG's.
func bazelSettings(configs, userRC []string, noRC bool) (push.BazelSettings, error) {
	if noRC {
		return push.BazelSettings{}, nil
	}
	var user []string
	for _, f := range filepath.SplitList(os.Getenv("WHARF_BAZELRC")) {
		if f != "" {
			user = append(user, f)
		}
	}
	user = append(user, userRC...)
	if v := os.Getenv("WHARF_BAZEL_CONFIG"); v != "" {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" {
				configs = append(configs, c)
			}
		}
	}
	home, _ := os.UserHomeDir()
	return push.ReadBazelrc("/etc/bazel.bazelrc", os.Getenv("BUILD_WORKSPACE_DIRECTORY"), home, user, configs)
}

// credentialHelpers are the Bazel credential helpers of the rc files, then
// $WHARF_CREDENTIAL_HELPERS's, then the flags' (a later one for the same scope wins).
func credentialHelpers(fromRC, flags []string) ([]credentials.Helper, error) {
	ws := os.Getenv("BUILD_WORKSPACE_DIRECTORY")
	rc, err := credentials.ParseHelpers(fromRC, ws)
	if err != nil {
		return nil, fmt.Errorf(".bazelrc: %w", err)
	}
	env, err := credentials.HelpersFromEnv(ws)
	if err != nil {
		return nil, err
	}
	given, err := credentials.ParseHelpers(flags, ws)
	if err != nil {
		return nil, err
	}
	return append(append(rc, env...), given...), nil
}

// pushSources returns the caches to take layers from: the flags' where given, else what
// the user's .bazelrc files give Bazel.
func pushSources(rc push.RemoteCache, diskCache string, s push.BazelSettings, rcGiven, diskGiven bool) ([]push.Source, error) {
	if !rcGiven && s.RemoteCache.URL != "" {
		// The flags given refine the rc files' cache.
		from := s.RemoteCache
		if rc.InstanceName != "" {
			from.InstanceName = rc.InstanceName
		}
		for k, vs := range rc.Headers {
			from.Headers[k] = vs
		}
		if rc.TLSCA != "" {
			from.TLSCA = rc.TLSCA
		}
		if rc.TLSCert != "" {
			from.TLSCert, from.TLSKey = rc.TLSCert, rc.TLSKey
		}
		from.Helpers = rc.Helpers
		rc = from
	}
	if !diskGiven {
		diskCache = s.DiskCache
	}
	var sources []push.Source
	if rc.URL != "" {
		src, err := push.NewRemoteCacheSource(rc)
		if err != nil {
			return nil, err
		}
		sources = append(sources, src)
	}
	if diskCache != "" {
		sources = append(sources, push.DiskCacheSource(diskCache))
	}
	return sources, nil
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
