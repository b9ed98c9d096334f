package sign

import (
	"crypto"
	"crypto/ecdsa"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rules-wharf/rules_wharf/tools/internal/registrytest"
	"github.com/rules-wharf/rules_wharf/tools/internal/sign/signtest"
)

func ecKey(t *testing.T) *ecdsa.PrivateKey { return signtest.ECKey(t) }

func writePEM(t *testing.T, dir, file, typ string, der []byte) string {
	return signtest.WritePEM(t, dir, file, typ, der)
}

func pkcs8(t *testing.T, k crypto.Signer) []byte { return signtest.PKCS8(t, k) }

func cosignKey(t *testing.T, dir string, k crypto.Signer, password string) string {
	return signtest.WriteCosignKey(t, dir, "cosign.key", k, password)
}

// testImage pushes a random image (or, with index, an index of two) to a fresh registry
// and returns the repository and its top descriptor.
func testImage(t *testing.T, referrers, index bool) (*registrytest.Registry, name.Repository, v1.Descriptor, *Registry) {
	t.Helper()
	reg := registrytest.New(t, ggcrregistry.WithReferrersSupport(referrers))
	repo, err := name.NewRepository(reg.Host + "/app")
	if err != nil {
		t.Fatal(err)
	}
	var top interface {
		Digest() (v1.Hash, error)
		MediaType() (types.MediaType, error)
		Size() (int64, error)
	}
	if index {
		idx, err := random.Index(64, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(repo.Tag("v1"), idx); err != nil {
			t.Fatal(err)
		}
		top = idx
	} else {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(repo.Tag("v1"), img); err != nil {
			t.Fatal(err)
		}
		top = img
	}
	d, _ := top.Digest()
	mt, _ := top.MediaType()
	size, _ := top.Size()
	return reg, repo, v1.Descriptor{Digest: d, MediaType: mt, Size: size}, &Registry{Keychain: authn.DefaultKeychain}
}
