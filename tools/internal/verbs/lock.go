package verbs

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/locker"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
)

// lockFlags are the lock verb's flags beside locker.Options'.
type lockFlags struct {
	o                        locker.Options
	archs, helpers, appended cli.Strings
	devPackages              cli.Strings
	check                    bool
	refresh, devLock         string
}

func (f *lockFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.o.ConfigPath, "config", "", "apko configuration (apko.yaml)")
	fs.StringVar(&f.o.LockPath, "lock", "", "lock file to write or check")
	fs.StringVar(&f.o.Dir, "dir", "", "directory relative repository and keyring paths are relative to (default: the configuration's)")
	fs.StringVar(&f.o.ConfigName, "config-name", "", "name recorded as the lock's config.name (default: the configuration's path relative to --dir)")
	fs.Var(&f.archs, "arch", "architecture to lock instead of the configuration's (repeatable)")
	fs.Var(&f.appended, "package-append", "package added to the configuration's, as apko build's --package-append (repeatable)")
	fs.StringVar(&f.devLock, "dev-lock", "", "also write (or check) this lock: the configuration plus the --dev-package packages, the image's -dev variant")
	fs.Var(&f.devPackages, "dev-package", "package of the -dev variant's lock (repeatable; with --dev-lock)")
	fs.BoolVar(&f.check, "check", false, "do not fetch or write: fail if the lock is stale for the configuration")
	fs.StringVar(&f.refresh, "refresh-command", "", "command that regenerates the lock, named in --check's error")
	fs.Var(&f.helpers, "credential_helper", "[SCOPE=]PATH of a Bazel credential helper for the repositories (repeatable; after those of $"+credentials.EnvHelpers+")")
}

// options completes the options from the flags and the environment.
func (f *lockFlags) options(log io.Writer) (locker.Options, error) {
	o := f.o
	if err := cli.Require("config", o.ConfigPath, "lock", o.LockPath); err != nil {
		return o, err
	}
	if len(f.devPackages) > 0 && f.devLock == "" {
		return o, errors.New("--dev-package needs --dev-lock (the lock the -dev variant's packages go into)")
	}
	o.Archs, o.PackageAppend = f.archs, f.appended
	// %workspace% in a helper's path is the workspace `bazel run` names.
	ws := os.Getenv("BUILD_WORKSPACE_DIRECTORY")
	env, err := credentials.HelpersFromEnv(ws)
	if err != nil {
		return o, err
	}
	flagged, err := credentials.ParseHelpers(f.helpers, ws)
	if err != nil {
		return o, fmt.Errorf("--credential_helper: %w", err)
	}
	o.CredentialHelpers = append(env, flagged...)
	o.Notes = log
	return o, nil
}

// dev is the options of the -dev variant's lock: the same configuration with the dev
// packages appended to any --package-append ones.
func (f *lockFlags) dev(o locker.Options) locker.Options {
	o.LockPath = f.devLock
	o.PackageAppend = append(append([]string{}, o.PackageAppend...), f.devPackages...)
	return o
}

// lockVerb writes (or with --check, checks offline) an apko lock for an apko.yaml, and the
// -dev variant's lock with --dev-lock; `search TERM...` answers which package provides
// something instead. Notes for the user (where credentials belong) and search's answers
// go to log.
func lockVerb(args []string, log io.Writer) error {
	var f lockFlags
	fs := newFlags("lock")
	f.register(fs)
	if err := parseFlags(fs, args, log); err != nil {
		return err
	}
	o, err := f.options(log)
	if err != nil {
		return err
	}
	if rest := fs.Args(); len(rest) > 0 {
		return f.search(o, rest, log)
	}
	all := []locker.Options{o}
	if f.devLock != "" {
		all = append(all, f.dev(o))
	}
	if f.check {
		var errs []error
		for _, o := range all {
			errs = append(errs, f.checkOne(o))
		}
		return errors.Join(errs...)
	}
	// Both locks are made before either is written: a failure leaves both as they were.
	var locks [][]byte
	for _, o := range all {
		b, err := locker.Generate(o)
		if err != nil {
			return err
		}
		locks = append(locks, b)
	}
	for i, o := range all {
		// The lock goes into the workspace: only atomicfile's own temporary may be removed there.
		if err := atomicfile.WriteWorkspaceFile(o.LockPath, locks[i]); err != nil {
			return err
		}
	}
	return nil
}

func (f *lockFlags) checkOne(o locker.Options) error {
	err := locker.Check(o)
	var stale *locker.StaleError
	if errors.As(err, &stale) {
		refresh := f.refresh
		if refresh == "" {
			refresh = "wharf lock without --check"
		}
		return fmt.Errorf("%w\nregenerate it with: %s", err, refresh)
	}
	return err
}

// search runs `lock search TERM...`: the terms are answered from the configuration's
// repositories, and the locks say whether they have each package.
func (f *lockFlags) search(o locker.Options, rest []string, log io.Writer) error {
	if rest[0] != "search" {
		return fmt.Errorf("unexpected argument %q: the only subcommand is search (e.g. bazel run //app:lock -- search cmd:curl)", rest[0])
	}
	if f.check {
		return errors.New("search does not go with --check")
	}
	locks := []string{o.LockPath}
	if f.devLock != "" {
		locks = append(locks, f.devLock)
	}
	return locker.Search(o, rest[1:], locks, log)
}
