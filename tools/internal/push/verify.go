package push

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
	"github.com/rules-wharf/rules_wharf/tools/internal/sign"
)

// VerifyConfig is what `wharf verify` is told: the pushed images (by plan, as push finds
// them, or by digest reference), the public key and the attestations required.
type VerifyConfig struct {
	plans, attestations, helpers      cli.Strings
	key, repository, registry, scheme string
	fs                                *flag.FlagSet
}

// RegisterFlags declares verify's flags on fs.
func (c *VerifyConfig) RegisterFlags(fs *flag.FlagSet) {
	c.fs = fs
	fs.Var(&c.plans, "plan", "a push plan (repeatable): its repository and every manifest it pushes")
	fs.StringVar(&c.key, "key", "", "the public key (PEM, as cosign.pub) signatures must verify with")
	fs.Var(&c.attestations, "attestation", "require a signed attestation of this type on the top digest: spdxjson, cyclonedx, slsaprovenance1 or a predicate type URI (repeatable); "+
		"a plan's own statements are required on the digests they name without it")
	fs.StringVar(&c.repository, "repository", "", "the repository the plan was pushed to, when push was given --repository (one plan only)")
	fs.StringVar(&c.registry, "registry", "", "the registry the plans were pushed to, when push was given --registry")
	fs.StringVar(&c.scheme, "signatures", "auto", "where to look: referrers, tag (cosign's sha256-<hex>.sig/.att) or auto (both)")
	fs.Var(&c.helpers, "credential-helper", "[SCOPE=]PATH of a Bazel credential helper (repeatable; also $"+credentials.EnvHelpers+")")
}

// subject is one digest to check and the predicate types of the attestations it needs
// beside those --attestation requires of a top digest.
type subject struct {
	repo  name.Repository
	desc  v1.Descriptor
	top   bool
	types []string
}

// Run checks every digest's signature and the required attestations of each top digest,
// printing what verified to stdout; it fails naming every image and check that did not.
func (c *VerifyConfig) Run(ctx context.Context, stdout io.Writer) error {
	v, types, err := c.verifier()
	if err != nil {
		return err
	}
	subjects, err := c.subjects(v.Registry)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range subjects {
		if err := s.check(ctx, v, types, stdout); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		head := fmt.Errorf("verify: %d of %d images failed with key %s", len(errs), len(subjects), c.key)
		return errors.Join(append([]error{head}, errs...)...)
	}
	return nil
}

// check verifies the subject's signature and the attestations it needs (with a top
// digest, the types --attestation requires too), printing what verified to stdout.
func (s subject) check(ctx context.Context, v *sign.Verifier, types []string, stdout io.Writer) error {
	err := v.CheckSignature(ctx, s.repo, s.desc.Digest)
	checks := []string{"signature"}
	need := s.types
	if s.top {
		need = unique(append(append([]string(nil), types...), s.types...))
	}
	for _, t := range need {
		err = errors.Join(err, v.CheckAttestation(ctx, s.repo, s.desc.Digest, t))
		checks = append(checks, t)
	}
	if err == nil {
		fmt.Fprintf(stdout, "verified %s: %s\n", s.repo.Digest(s.desc.Digest.String()), strings.Join(checks, ", "))
	}
	return err
}

// verifier reads the key and flags; it returns the predicate types required.
func (c *VerifyConfig) verifier() (*sign.Verifier, []string, error) {
	if c.fs.NArg() == 0 && len(c.plans) == 0 {
		return nil, nil, errors.New("name the images to verify: --plan PLAN or IMAGE@sha256:DIGEST")
	}
	if c.key == "" {
		return nil, nil, errors.New("--key PUBLIC_KEY is required")
	}
	key, err := sign.LoadPublicKey(userPath(c.key))
	if err != nil {
		return nil, nil, err
	}
	scheme, err := sign.ParseScheme(c.scheme)
	if err != nil {
		return nil, nil, err
	}
	var types []string
	for _, a := range c.attestations {
		if t, ok := sign.PredicateTypes[a]; ok {
			a = t
		} else if !strings.Contains(a, "://") {
			return nil, nil, fmt.Errorf("--attestation %q: want spdxjson, cyclonedx, slsaprovenance1 or a predicate type URI", a)
		}
		types = append(types, a)
	}
	helpers, err := c.credentialHelpers()
	if err != nil {
		return nil, nil, err
	}
	keychain := credentials.Keychain(helpers)
	reg := &sign.Registry{Keychain: keychain, Options: []remote.Option{remote.WithAuthFromKeychain(keychain)}}
	return &sign.Verifier{Key: key, KeyName: c.key, Scheme: scheme, Registry: reg}, types, nil
}

// credentialHelpers are push's: $WHARF_CREDENTIAL_HELPERS's, then the flags'.
func (c *VerifyConfig) credentialHelpers() ([]credentials.Helper, error) {
	return (&Config{helpers: c.helpers}).credentialHelpers(nil)
}

// subjects are the plans' manifests (the top one first) and the named images with, for
// an index, its manifests.
func (c *VerifyConfig) subjects(reg *sign.Registry) ([]subject, error) {
	if len(c.plans) > 1 && c.repository != "" {
		return nil, fmt.Errorf("--repository names one plan's repository; %d plans given", len(c.plans))
	}
	where := &Config{repository: c.repository, registry: c.registry}
	var out []subject
	for _, p := range c.plans {
		t, err := ReadPlan(p, ".", "")
		if err != nil {
			return nil, err
		}
		repo, err := where.repositoryOf(t)
		if err != nil {
			return nil, err
		}
		ms, _, err := t.walk()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Label, err)
		}
		stated := map[v1.Hash][]string{}
		for _, a := range t.Attestations {
			for _, d := range a.parsed.Digests() {
				stated[d] = append(stated[d], a.parsed.PredicateType)
			}
		}
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			out = append(out, subject{repo, v1.Descriptor{Digest: m.digest, MediaType: m.mediaType}, i == len(ms)-1, unique(stated[m.digest])})
		}
	}
	for _, arg := range c.fs.Args() {
		s, err := imageSubjects(arg, reg)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// imageSubjects are a digest reference's manifest and, for an index, its manifests.
func imageSubjects(arg string, reg *sign.Registry) ([]subject, error) {
	ref, err := name.NewDigest(arg)
	if err != nil {
		return nil, fmt.Errorf("%q: want REPOSITORY@sha256:... (%w)", arg, err)
	}
	h, _ := v1.NewHash(ref.DigestStr())
	out := []subject{{ref.Context(), v1.Descriptor{Digest: h}, true, nil}}
	d, err := remote.Get(ref, reg.Options...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	if !d.MediaType.IsIndex() {
		return out, nil
	}
	idx, err := d.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	for _, m := range im.Manifests {
		if m.MediaType.IsImage() || m.MediaType.IsIndex() {
			out = append(out, subject{ref.Context(), m, false, nil})
		}
	}
	return out, nil
}

// unique is ss without repeats, in order.
func unique(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
