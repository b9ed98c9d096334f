package push

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
)

// Credentials finds registry credentials as push does, for other verbs that read from a
// registry at run time (load-tar): its flags are push's --bazel-config, --bazelrc,
// --no-bazelrc and --credential-helper, with the same environment and .bazelrc defaults.
type Credentials struct{ c Config }

// RegisterFlags declares the credential flags on fs; Keychain reads them once fs has parsed.
func (k *Credentials) RegisterFlags(fs *flag.FlagSet) {
	k.c.fs = fs
	k.c.bazelFlags(fs)
}

// Keychain is push's keychain: a Bazel credential helper for the host, else the Docker
// config (auths, credHelpers, credsStore), podman's auth.json.
func (k *Credentials) Keychain() (authn.Keychain, error) {
	_, helpers, err := k.c.settingsAndHelpers()
	if err != nil {
		return nil, err
	}
	return credentials.Keychain(helpers), nil
}

// FetchBlob opens blob d of repo as push's origin-registry source does (stall detection,
// credentials from kc; stall 0: none), checked while read: the reader fails at its end when the bytes
// are not d's. A registry refusing the credentials gets push's explanation.
func FetchBlob(ctx context.Context, repo name.Repository, d v1.Descriptor, kc authn.Keychain, stall time.Duration) (io.ReadCloser, error) {
	src := &registrySource{repo: repo, opts: remoteOptions(ctx, kc, stallRoundTripper(stall))}
	rc, err := src.Open(ctx, d)
	if err != nil {
		return nil, explainAuth(err, repo.RegistryStr())
	}
	return newVerified(rc, d, src.String(), nil), nil
}

// VerifyBlob checks r, a blob read from source, against d as it is read (see FetchBlob).
func VerifyBlob(r io.ReadCloser, d v1.Descriptor, source string) io.ReadCloser {
	return newVerified(r, d, source, nil)
}
