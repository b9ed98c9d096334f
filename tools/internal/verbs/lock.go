package verbs

import (
	"errors"
	"fmt"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/locker"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
)

// lockVerb writes (or with --check, checks offline) an apko lock for an apko.yaml.
func lockVerb(args []string) error {
	var o locker.Options
	var archs cli.Strings
	var check bool
	var refresh string
	fs := newFlags("lock")
	fs.StringVar(&o.ConfigPath, "config", "", "apko configuration (apko.yaml)")
	fs.StringVar(&o.LockPath, "lock", "", "lock file to write or check")
	fs.StringVar(&o.Dir, "dir", "", "directory relative repository and keyring paths are relative to (default: the configuration's)")
	fs.StringVar(&o.ConfigName, "config-name", "", "name recorded as the lock's config.name (default: the configuration's path relative to --dir)")
	fs.Var(&archs, "arch", "architecture to lock instead of the configuration's (repeatable)")
	fs.BoolVar(&check, "check", false, "do not fetch or write: fail if the lock is stale for the configuration")
	fs.StringVar(&refresh, "refresh-command", "", "command that regenerates the lock, named in --check's error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("config", o.ConfigPath, "lock", o.LockPath); err != nil {
		return err
	}
	o.Archs = archs
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
	return atomicfile.WriteFile(o.LockPath, b)
}
