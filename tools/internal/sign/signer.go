// Package sign signs pushed images as cosign does and checks such signatures: cosign's
// simple-signing payload for an image digest, in-toto statements in DSSE envelopes, signed
// by a key file (cosign's encrypted key or a plain PEM) or an external signer program
// (docs/signing.md), published as OCI 1.1 referrers or under cosign's sha256-<hex>.sig and
// .att tags, and read back by Verifier. Keys are read only at `wharf push` time.
package sign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Signature is a signer's answer for one payload.
type Signature struct {
	Sig []byte
	// PublicKey checks Sig; from the key, or the certificate's.
	PublicKey crypto.PublicKey
	// Certificate and Chain (PEM) are a keyless or KMS signer's, attached beside the
	// signature as cosign attaches them.
	Certificate, Chain []byte
}

// Signer signs payloads. image names what is signed, for messages and external signers.
type Signer interface {
	Sign(ctx context.Context, image string, payload []byte, payloadType string) (Signature, error)
	// Name says which signer it is in messages: a key file or a program.
	Name() string
}

// KeySigner signs with a private key read by LoadKey.
type KeySigner struct {
	Key  crypto.Signer
	File string
}

// Name is the key's file.
func (k *KeySigner) Name() string { return "key " + k.File }

// Sign signs payload as cosign does with this kind of key.
func (k *KeySigner) Sign(_ context.Context, _ string, payload []byte, _ string) (Signature, error) {
	sig, err := rawSign(k.Key, payload)
	if err != nil {
		return Signature{}, fmt.Errorf("signing with %s: %w", k.Name(), err)
	}
	return Signature{Sig: sig, PublicKey: k.Key.Public()}, nil
}

// rawSign signs as sigstore's signers do: ECDSA over SHA-256 (ASN.1), RSA PKCS#1 v1.5 over
// SHA-256, Ed25519 over the message itself.
func rawSign(key crypto.Signer, msg []byte) ([]byte, error) {
	if _, ok := key.(ed25519.PrivateKey); ok {
		return key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	sum := sha256.Sum256(msg)
	return key.Sign(rand.Reader, sum[:], crypto.SHA256)
}

// errBadSignature is a signature the key does not verify.
var errBadSignature = errors.New("the signature does not verify")

// rawVerify checks sig over msg as rawSign makes it.
func rawVerify(key crypto.PublicKey, msg, sig []byte) error {
	sum := sha256.Sum256(msg)
	ok := false
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, sum[:], sig)
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
	case ed25519.PublicKey:
		ok = ed25519.Verify(k, msg, sig)
	default:
		return fmt.Errorf("a %T key cannot verify", key)
	}
	if !ok {
		return errBadSignature
	}
	return nil
}
