package verbs

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
)

func pushVerb(args []string) error {
	var tags, defaultTags cli.Strings
	var layoutDir, repository, defaultRepository string
	fs := newFlags("push")
	fs.StringVar(&layoutDir, "layout", "", "OCI layout holding one image")
	fs.StringVar(&repository, "repository", "", "registry/repository to push to (overrides the rule's)")
	fs.Var(&tags, "tag", "tag to apply (repeatable; replaces the rule's tags)")
	fs.StringVar(&defaultRepository, "default-repository", "", "the rule's repository")
	fs.Var(&defaultTags, "default-tag", "the rule's tags")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if repository == "" {
		repository = defaultRepository
	}
	if len(tags) == 0 {
		tags = defaultTags
	}
	if err := cli.Require("layout", layoutDir, "repository", repository); err != nil {
		return err
	}
	repo, err := name.NewRepository(repository)
	if err != nil {
		return fmt.Errorf("repository %q: %w", repository, err)
	}
	p, err := layout.FromPath(layoutDir)
	if err != nil {
		return err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	if len(im.Manifests) != 1 {
		return fmt.Errorf("layout %s lists %d manifests, want 1", layoutDir, len(im.Manifests))
	}
	top := im.Manifests[0]
	opts := []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	byDigest := repo.Digest(top.Digest.String())
	var tagged remote.Taggable
	if top.MediaType.IsIndex() {
		child, err := idx.ImageIndex(top.Digest)
		if err != nil {
			return err
		}
		if err := remote.WriteIndex(byDigest, child, opts...); err != nil {
			return fmt.Errorf("pushing %s: %w", byDigest, err)
		}
		tagged = child
	} else {
		img, err := idx.Image(top.Digest)
		if err != nil {
			return err
		}
		if err := remote.Write(byDigest, img, opts...); err != nil {
			return fmt.Errorf("pushing %s: %w", byDigest, err)
		}
		tagged = img
	}
	for _, t := range tags {
		if err := remote.Tag(repo.Tag(t), tagged, opts...); err != nil {
			return fmt.Errorf("tagging %s: %w", repo.Tag(t), err)
		}
	}
	fmt.Fprintln(os.Stdout, byDigest.String())
	return nil
}
