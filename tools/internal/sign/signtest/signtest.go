// Package signtest writes signing keys for tests: cosign's encrypted key file, a plain
// PKCS#8 PEM, and the public key.
package signtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// ECKey is a new ECDSA P-256 key, cosign's default kind.
func ECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// WritePEM writes one PEM block to dir/file.
func WritePEM(t testing.TB, dir, file, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// PKCS8 is k as PKCS#8 DER.
func PKCS8(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// WritePublicKey writes k's public key as cosign.pub holds it.
func WritePublicKey(t testing.TB, dir, file string, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return WritePEM(t, dir, file, "PUBLIC KEY", der)
}

// WriteCosignKey writes k as cosign generate-key-pair does: PKCS#8 sealed with
// nacl/secretbox under an scrypt key of the password (secure-systems-lab's format, its
// legacy parameters), in an "ENCRYPTED SIGSTORE PRIVATE KEY" block.
func WriteCosignKey(t testing.TB, dir, file string, k crypto.Signer, password string) string {
	t.Helper()
	salt, nonce := make([]byte, 32), [24]byte{}
	rand.Read(salt)
	rand.Read(nonce[:])
	key, err := scrypt.Key([]byte(password), salt, 32768, 8, 1, 32)
	if err != nil {
		t.Fatal(err)
	}
	var box [32]byte
	copy(box[:], key)
	b, err := json.Marshal(map[string]any{
		"kdf":        map[string]any{"name": "scrypt", "params": map[string]int{"N": 32768, "r": 8, "p": 1}, "salt": salt},
		"cipher":     map[string]any{"name": "nacl/secretbox", "nonce": nonce[:]},
		"ciphertext": secretbox.Seal(nil, PKCS8(t, k), &nonce, &box),
	})
	if err != nil {
		t.Fatal(err)
	}
	return WritePEM(t, dir, file, "ENCRYPTED SIGSTORE PRIVATE KEY", b)
}
