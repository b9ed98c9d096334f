package verbs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/locker"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
)

// lockVerb writes (or with --check, checks offline) an apko lock for an apko.yaml; notes
// for the user (where credentials belong) go to log.
func lockVerb(args []string, log io.Writer) error {
	var o locker.Options
	var archs cli.Strings
	var check bool
	var refresh string
	var helpers cli.Strings
	fs := newFlags("lock")
	fs.StringVar(&o.ConfigPath, "config", "", "apko configuration (apko.yaml)")
	fs.StringVar(&o.LockPath, "lock", "", "lock file to write or check")
	fs.StringVar(&o.Dir, "dir", "", "directory relative repository and keyring paths are relative to (default: the configuration's)")
	fs.StringVar(&o.ConfigName, "config-name", "", "name recorded as the lock's config.name (default: the configuration's path relative to --dir)")
	fs.Var(&archs, "arch", "architecture to lock instead of the configuration's (repeatable)")
	fs.BoolVar(&check, "check", false, "do not fetch or write: fail if the lock is stale for the configuration")
	fs.StringVar(&refresh, "refresh-command", "", "command that regenerates the lock, named in --check's error")
	fs.Var(&helpers, "credential_helper", "[SCOPE=]PATH of a Bazel credential helper for the repositories (repeatable; after those of $"+credentials.EnvHelpers+")")
	if err := parseFlags(fs, args, log); err != nil {
		return err
	}
	if err := cli.Require("config", o.ConfigPath, "lock", o.LockPath); err != nil {
		return err
	}
	o.Archs = archs
	// %workspace% in a helper's path is the workspace `bazel run` names.
	ws := os.Getenv("BUILD_WORKSPACE_DIRECTORY")
	env, err := credentials.HelpersFromEnv(ws)
	if err != nil {
		return err
	}
	flagged, err := credentials.ParseHelpers(helpers, ws)
	if err != nil {
		return fmt.Errorf("--credential_helper: %w", err)
	}
	o.CredentialHelpers = append(env, flagged...)
	o.Notes = log
	if check {
		err := locker.Check(o)
		var stale *locker.StaleError
		if errors.As(err, &stale) {
			if refresh == "" {
				refresh = "wharf lock without --check"
			}
			return fmt.Errorf("%w\nregenerate it with: %s", err, refresh)
		}
		return err
	}
	b, err := locker.Generate(o)
	if err != nil {
		return err
	}
	// The lock goes into the workspace: only atomicfile's own temporary may be removed there.
	return atomicfile.WriteWorkspaceFile(o.LockPath, b)
}
