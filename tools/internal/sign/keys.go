package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// PEM block types of cosign's encrypted private key: "ENCRYPTED SIGSTORE PRIVATE KEY"
// since cosign 2.0, "ENCRYPTED COSIGN PRIVATE KEY" before; the same content.
const (
	sigstoreKeyType = "ENCRYPTED SIGSTORE PRIVATE KEY"
	cosignKeyType   = "ENCRYPTED COSIGN PRIVATE KEY"
)

// Password gives an encrypted key's password; ok is false when none is set, so the error
// can say where to set one.
type Password func() (password []byte, ok bool)

// LoadKey reads a private key file: cosign's encrypted key (cosign generate-key-pair),
// decrypted with password, or a plain PEM key: PKCS#8 ("PRIVATE KEY"), SEC 1 ("EC PRIVATE
// KEY") or PKCS#1 ("RSA PRIVATE KEY"). Errors name the file, never its content.
func LoadKey(path string, password Password) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := parseKey(b, password)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

func parseKey(b []byte, password Password) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("not a PEM file (want cosign's encrypted key or a PKCS#8 PEM private key)")
	}
	var key any
	var err error
	switch block.Type {
	case sigstoreKeyType, cosignKeyType:
		key, err = decryptKey(block.Bytes, password)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key (want %q, %q, %q or %q)",
			block.Type, sigstoreKeyType, "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY")
	}
	if err != nil {
		return nil, err
	}
	return signerOf(key)
}

// signerOf accepts the key kinds cosign verifies: ECDSA, RSA and Ed25519.
func signerOf(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
		return k.(crypto.Signer), nil
	}
	return nil, fmt.Errorf("a %T key: want ECDSA, RSA or Ed25519", key)
}

// encryptedKey is secure-systems-lab's encrypted format, which cosign writes: scrypt
// derives a nacl/secretbox key from the password; the plaintext is a PKCS#8 DER key.
type encryptedKey struct {
	KDF struct {
		Name   string `json:"name"`
		Params struct {
			N int `json:"N"`
			R int `json:"r"`
			P int `json:"p"`
		} `json:"params"`
		Salt []byte `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// scryptCosts are the parameter sets secure-systems-lab accepts (legacy, standard,
// OWASP); anything else could make scrypt take unbounded memory.
var scryptCosts = map[[3]int]bool{{32768, 8, 1}: true, {65536, 8, 1}: true, {131072, 8, 1}: true}

func decryptKey(b []byte, password Password) (any, error) {
	var e encryptedKey
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("cosign encrypted key: %w", err)
	}
	if e.KDF.Name != "scrypt" || e.Cipher.Name != "nacl/secretbox" {
		return nil, fmt.Errorf("cosign encrypted key: kdf %q, cipher %q: want scrypt and nacl/secretbox", e.KDF.Name, e.Cipher.Name)
	}
	p := e.KDF.Params
	if !scryptCosts[[3]int{p.N, p.R, p.P}] {
		return nil, fmt.Errorf("cosign encrypted key: scrypt parameters N=%d r=%d p=%d are not cosign's", p.N, p.R, p.P)
	}
	if len(e.Cipher.Nonce) != 24 {
		return nil, errors.New("cosign encrypted key: the nonce is not 24 bytes")
	}
	pw, ok := password()
	if !ok {
		return nil, errors.New("it is encrypted and no password is set: set $" + PasswordEnv + " (or the variable --sign-key-password-env names)")
	}
	k, err := scrypt.Key(pw, e.KDF.Salt, p.N, p.R, p.P, 32)
	if err != nil {
		return nil, fmt.Errorf("cosign encrypted key: %w", err)
	}
	var key [32]byte
	var nonce [24]byte
	copy(key[:], k)
	copy(nonce[:], e.Cipher.Nonce)
	der, ok := secretbox.Open(nil, e.Ciphertext, &nonce, &key)
	if !ok {
		return nil, errors.New("cannot decrypt it: wrong password")
	}
	return x509.ParsePKCS8PrivateKey(der)
}

// PasswordEnv is cosign's variable for its key's password, which push reads by default.
const PasswordEnv = "COSIGN_PASSWORD"

// LoadPublicKey reads a PEM public key ("PUBLIC KEY", as cosign.pub) or the public key of
// a PEM certificate.
func LoadPublicKey(path string) (crypto.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return k, nil
}

// ParsePublicKey parses a PEM public key or certificate.
func ParsePublicKey(b []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("not a PEM public key")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = c.PublicKey
		}
	default:
		return nil, fmt.Errorf("PEM block %q: want %q or %q", block.Type, "PUBLIC KEY", "CERTIFICATE")
	}
	if err != nil {
		return nil, err
	}
	switch key.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
		return key, nil
	}
	return nil, fmt.Errorf("a %T key: want ECDSA, RSA or Ed25519", key)
}

// MarshalPublicKey is key as a PEM "PUBLIC KEY", as cosign.pub holds it.
func MarshalPublicKey(key crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
