package apkfile

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Keyring maps key file names (as named by .SIGN.RSA*.<name>) to RSA public keys.
type Keyring map[string]*rsa.PublicKey

// AddPEM adds the PEM public key in data under name (only the base name counts).
func (k Keyring) AddPEM(name string, data []byte) error {
	name = filepath.Base(name)
	blk, _ := pem.Decode(data)
	if blk == nil {
		return fmt.Errorf("key %s: no PEM block", name)
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		if rk, err2 := x509.ParsePKCS1PublicKey(blk.Bytes); err2 == nil {
			pub = rk
		} else {
			return fmt.Errorf("key %s: %w", name, err)
		}
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("key %s: not an RSA public key", name)
	}
	k[name] = rk
	return nil
}

func (k Keyring) names() string {
	n := make([]string, 0, len(k))
	for name := range k {
		n = append(n, name)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// VerifySignature checks that at least one signature over signed was made by a key in the
// keyring. Signatures naming unknown keys are skipped, as apk does; if none verifies, the
// error says why for each.
func (k Keyring) VerifySignature(sigs []Signature, signed []byte) (string, error) {
	if len(sigs) == 0 {
		return "", errors.New("package is not signed")
	}
	var why []string
	for _, s := range sigs {
		key, ok := k[s.KeyName]
		if !ok {
			why = append(why, fmt.Sprintf("signed by %q, which is not in the keyring [%s]", s.KeyName, k.names()))
			continue
		}
		var h crypto.Hash
		var sum []byte
		switch s.Hash {
		case "sha1":
			d := sha1.Sum(signed)
			h, sum = crypto.SHA1, d[:]
		case "sha256":
			d := sha256.Sum256(signed)
			h, sum = crypto.SHA256, d[:]
		default:
			return "", fmt.Errorf("unsupported signature hash %q", s.Hash)
		}
		if err := rsa.VerifyPKCS1v15(key, h, sum, s.Value); err != nil {
			why = append(why, fmt.Sprintf("RSA/%s signature by %q does not verify", s.Hash, s.KeyName))
			continue
		}
		return s.KeyName, nil
	}
	return "", errors.New(strings.Join(why, "; "))
}

// SRI is a parsed subresource-integrity checksum ("sha256-<base64>", "sha1-<base64>").
type SRI struct {
	Algo string
	Sum  []byte
}

// ParseSRI parses an integrity string.
func ParseSRI(s string) (SRI, error) {
	algo, b64, ok := strings.Cut(s, "-")
	if !ok || (algo != "sha1" && algo != "sha256") {
		return SRI{}, fmt.Errorf("unsupported checksum %q (want sha1-… or sha256-…)", s)
	}
	sum, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return SRI{}, fmt.Errorf("checksum %q: %w", s, err)
	}
	// The decoder skips newlines; a checksum is only valid in its one canonical spelling.
	if base64.StdEncoding.EncodeToString(sum) != b64 {
		return SRI{}, fmt.Errorf("checksum %q is not canonical base64", s)
	}
	want := map[string]int{"sha1": sha1.Size, "sha256": sha256.Size}[algo]
	if len(sum) != want {
		return SRI{}, fmt.Errorf("checksum %q: %d bytes, want %d", s, len(sum), want)
	}
	return SRI{Algo: algo, Sum: sum}, nil
}

func (s SRI) String() string { return s.Algo + "-" + base64.StdEncoding.EncodeToString(s.Sum) }

// Check compares the checksum of data (hashing with the SRI's algorithm) with s.
func (s SRI) Check(data []byte) bool {
	switch s.Algo {
	case "sha1":
		d := sha1.Sum(data)
		return bytes.Equal(d[:], s.Sum)
	case "sha256":
		d := sha256.Sum256(data)
		return bytes.Equal(d[:], s.Sum)
	}
	return false
}

// HexDataHash decodes a .PKGINFO datahash.
func HexDataHash(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("malformed datahash %q", s)
	}
	return b, nil
}
