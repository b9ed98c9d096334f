package verbs

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/push"
)

func pushVerb(args []string) error {
	var tags cli.Strings
	var layoutDir, repository, defaultRepository, defaultTags string
	fs := newFlags("push")
	fs.StringVar(&layoutDir, "layout", "", "OCI layout holding one image")
	fs.StringVar(&repository, "repository", "", "registry/repository to push to (overrides the rule's)")
	fs.Var(&tags, "tag", "tag to apply (repeatable; replaces the rule's tags)")
	fs.StringVar(&defaultRepository, "default-repository", "", "the rule's repository")
	fs.StringVar(&defaultTags, "default-tags-file", "", "the rule's tags, one per line (written by expand-tags)")
	stall := fs.Duration("stall-timeout", push.DefaultStallTimeout,
		"fail a registry request that makes no progress (no request body bytes sent, no response bytes received) for this long; "+
			"a stalled request is retried like a reset connection; not a limit on total time; 0 disables; "+
			"when the flag is not given, $"+push.StallTimeoutEnv+" (a Go duration such as 2m) if set, else 60s")
	if err := fs.Parse(args); err != nil {
		return err
	}
	idle, err := push.StallTimeout(*stall, flagGiven(fs, "stall-timeout"))
	if err != nil {
		return err
	}
	if repository == "" {
		repository = defaultRepository
	}
	if err := cli.Require("layout", layoutDir, "repository", repository); err != nil {
		return err
	}
	if len(tags) == 0 && defaultTags != "" {
		if tags, err = push.ReadTagsFile(defaultTags); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if err := push.CheckTag(t); err != nil {
			return err
		}
	}
	repo, err := name.NewRepository(repository)
	if err != nil {
		return fmt.Errorf("repository %q: %w", repository, err)
	}
	pushed, err := push.Layout(context.Background(), layoutDir, repo, tags, idle)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, pushed.String())
	return nil
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
