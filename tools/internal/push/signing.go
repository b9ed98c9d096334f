package push

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/sign"
)

// Environment defaults of the signing flags.
const (
	SignKeyEnv = "WHARF_SIGN_KEY"
	SignerEnv  = "WHARF_SIGNER"
)

// Attestation is one of a plan's in-toto statements.
type Attestation struct {
	File      string
	Statement []byte
	parsed    *sign.Statement
}

// addAttestation reads a plan's --attestation statement (value, at path).
func (t *Target) addAttestation(value, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	st, err := sign.ParseStatement(b)
	if err != nil {
		return fmt.Errorf("%s: %w", value, err)
	}
	t.Attestations = append(t.Attestations, Attestation{File: value, Statement: b, parsed: st})
	return nil
}

// Signing is how push signs what it pushed: every manifest pushed (the top one and an
// index's manifests) and the plans' attestations.
type Signing struct {
	Signer sign.Signer
	Scheme sign.Scheme
}

// signFlags are the flags of signing; the key and password are read only when pushing.
type signFlags struct {
	key, passwordEnv, signer, scheme string
}

func (s *signFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.key, "sign-key", "", "sign with this private key: cosign's encrypted key (cosign.key; its password from $"+sign.PasswordEnv+
		" or the variable --sign-key-password-env names) or a PKCS#8 PEM (default $"+SignKeyEnv+")")
	fs.StringVar(&s.passwordEnv, "sign-key-password-env", sign.PasswordEnv, "the environment variable holding --sign-key's password (never a flag value)")
	fs.StringVar(&s.signer, "signer", "", "sign with this program (the signer protocol, docs/signing.md; default $"+SignerEnv+")")
	fs.StringVar(&s.scheme, "signatures", "auto", "where signatures and attestations go: referrers (OCI 1.1), tag (cosign's sha256-<hex>.sig/.att tags) or auto (referrers where the registry answers the referrers API)")
}

// signing resolves the signing flags for reqs: nil when there is nothing to sign with,
// an error when a plan requires signing then, before anything is uploaded.
func (s *signFlags) signing(reqs []Request) (*Signing, error) {
	scheme, err := sign.ParseScheme(s.scheme)
	if err != nil {
		return nil, err
	}
	key, signer := userPath(or(s.key, os.Getenv(SignKeyEnv))), or(s.signer, os.Getenv(SignerEnv))
	if strings.Contains(signer, "/") {
		signer = userPath(signer) // else a command found on PATH
	}
	switch {
	case key != "" && signer != "":
		return nil, fmt.Errorf("a signing key (--sign-key or $%s) and a signer (--signer or $%s) are both given: choose one", SignKeyEnv, SignerEnv)
	case signer != "":
		return &Signing{Signer: &sign.ProgramSigner{Program: signer}, Scheme: scheme}, nil
	case key == "":
		for _, r := range reqs {
			if r.Target.SignRequired {
				return nil, fmt.Errorf("%s must be signed (oci_push sign = True) and no key or signer is given: --sign-key FILE (or $%s) or --signer PROGRAM (or $%s); nothing was pushed", r.Target.Label, SignKeyEnv, SignerEnv)
			}
		}
		return nil, nil
	}
	env := s.passwordEnv
	k, err := sign.LoadKey(key, func() ([]byte, bool) {
		v, ok := os.LookupEnv(env)
		return []byte(v), ok
	})
	if err != nil {
		return nil, err
	}
	return &Signing{Signer: &sign.KeySigner{Key: k, File: key}, Scheme: scheme}, nil
}

// userPath resolves a path the user typed: under `bazel run` the working directory is
// the runfiles tree, and $BUILD_WORKING_DIRECTORY is where the user was.
func userPath(p string) string {
	if wd := os.Getenv("BUILD_WORKING_DIRECTORY"); p != "" && wd != "" && !filepath.IsAbs(p) {
		return filepath.Join(wd, p)
	}
	return p
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkAttestations fails when a statement names a digest the target does not push.
func (t *Target) checkAttestations() error {
	if len(t.Attestations) == 0 {
		return nil
	}
	ms, _, err := t.walk()
	if err != nil {
		return err
	}
	pushed := map[v1.Hash]bool{}
	var names []string
	for _, m := range ms {
		pushed[m.digest] = true
		names = append(names, m.digest.String())
	}
	for _, a := range t.Attestations {
		for _, d := range a.parsed.Digests() {
			if !pushed[d] {
				return fmt.Errorf("%s: attestation %s names %s, which this push does not push (it pushes %s)", t.Label, a.File, d, strings.Join(names, ", "))
			}
		}
	}
	return nil
}

// warnUnsigned says, once, that attestations are not pushed without a key or signer.
func warnUnsigned(w io.Writer, reqs []Request) {
	n := 0
	for _, r := range reqs {
		n += len(r.Target.Attestations)
	}
	if n > 0 {
		fmt.Fprintf(w, "push: %d attestation(s) not pushed: no key or signer (--sign-key, --signer, $%s, $%s); an unsigned attestation is of no use to cosign\n", n, SignKeyEnv, SignerEnv)
	}
}

// sign signs every manifest of a pushed request and attaches its attestations, those of
// each manifest at once.
func (e *engine) sign(ctx context.Context, r Request, ms []rawManifest, res *Result) error {
	p := &sign.Publisher{Signer: e.opts.Signing.Signer, Scheme: e.opts.Signing.Scheme,
		Registry: &sign.Registry{Keychain: e.opts.Keychain, Transport: e.rt, Options: e.ropts}}
	about := map[v1.Hash][]sign.Attestation{}
	for _, a := range r.Target.Attestations {
		for _, d := range a.parsed.Digests() {
			about[d] = append(about[d], sign.Attestation{Name: a.File, Statement: a.Statement})
		}
	}
	for _, m := range ms {
		d := v1.Descriptor{MediaType: m.mediaType, Digest: m.digest, Size: int64(len(m.raw))}
		if err := p.SignImage(ctx, r.Repository, d); err != nil {
			return err
		}
		res.Signed++
		if sts := about[m.digest]; len(sts) > 0 {
			if err := p.Attest(ctx, r.Repository, d, sts...); err != nil {
				return err
			}
			res.Attested += len(sts)
		}
	}
	return nil
}
