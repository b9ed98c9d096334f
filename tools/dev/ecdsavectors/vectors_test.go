// Package ecdsavectors makes the test vectors of oci.pull's Starlark ECDSA P-256 verifier
// (oci/private/ecdsa.bzl) with Go's crypto/ecdsa, and checks the checked-in copy against it:
// `go test ./tools/dev/ecdsavectors -update` writes oci/private/tests/ecdsa_vectors.bzl.
//
// Signatures are randomized, so the file is not compared byte for byte: every case in it must
// be one the generator makes, and Go must agree with each case's verdict.
package ecdsavectors

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/srctree"
)

const vectorsBzl = "oci/private/tests/ecdsa_vectors.bzl"

var update = flag.Bool("update", false, "write "+vectorsBzl)

// SigCase is a signature over Digest (hex) by the key in Key (PEM); Want is "ok", "invalid"
// (well-formed, does not verify) or "malformed" (the DER is refused).
type SigCase struct {
	Name      string `json:"name"`
	Key       string `json:"key"`
	Digest    string `json:"digest"`
	Signature string `json:"signature"`
	Want      string `json:"want"`
}

// KeyCase is a public key PEM the verifier must refuse with an error containing Error.
type KeyCase struct {
	Name  string `json:"name"`
	Key   string `json:"key"`
	Error string `json:"error"`
}

// Payload is a cosign simple-signing payload signed by KeyA, for the signature search.
type Payload struct {
	Name      string `json:"name"`
	Payload   string `json:"payload"`
	Digest    string `json:"digest"` // the payload's sha256:<hex>, its layer digest
	Signature string `json:"signature"`
}

// Cosign holds payloads for the image Image in Repository, and the keys around them.
type Cosign struct {
	KeyA       string    `json:"key_a"`
	KeyB       string    `json:"key_b"`
	Image      string    `json:"image"`
	Repository string    `json:"repository"`
	Payloads   []Payload `json:"payloads"`
}

// Vectors is the file's content.
type Vectors struct {
	Signatures []SigCase `json:"signatures"`
	Keys       []KeyCase `json:"keys"`
	Cosign     Cosign    `json:"cosign"`
}

var order = elliptic.P256().Params().N

func fixedKey(t *testing.T, seed string) *ecdsa.PrivateKey {
	t.Helper()
	d := sha256.Sum256([]byte(seed))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemOf(t *testing.T, typ string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func publicPEM(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PUBLIC KEY", der)
}

// compressedPEM is the SubjectPublicKeyInfo of k with its point in SEC 1 compressed form.
func compressedPEM(t *testing.T, k *ecdsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		t.Fatal(err)
	}
	point := elliptic.MarshalCompressed(elliptic.P256(), k.X, k.Y)
	spki.PublicKey = asn1.BitString{Bytes: point, BitLength: 8 * len(point)}
	out, err := asn1.Marshal(spki)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PUBLIC KEY", out)
}

type ecdsaSig struct{ R, S *big.Int }

func sigDER(t *testing.T, r, s *big.Int) []byte {
	t.Helper()
	der, err := asn1.Marshal(ecdsaSig{r, s})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func parseSig(t *testing.T, der []byte) (*big.Int, *big.Int) {
	t.Helper()
	var sig ecdsaSig
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		t.Fatalf("cannot parse a signature Go made: %v", err)
	}
	return sig.R, sig.S
}

func derInt(b []byte) []byte { return append([]byte{0x02, byte(len(b))}, b...) }

func derSeq(parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	return append([]byte{0x30, byte(len(body))}, body...)
}

func signatureCases(t *testing.T) []SigCase {
	a, b := fixedKey(t, "wharf ecdsa vectors: key a"), fixedKey(t, "wharf ecdsa vectors: key b")
	pa, pb := publicPEM(t, &a.PublicKey), publicPEM(t, &b.PublicKey)
	d := sha256.Sum256([]byte(`{"critical":{"identity":{"docker-reference":"ghcr.io/o/a"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":null}`))
	d2 := sha256.Sum256([]byte("a second payload"))
	sign := func(k *ecdsa.PrivateKey, digest []byte) []byte {
		der, err := ecdsa.SignASN1(rand.Reader, k, digest)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	sa, sb := sign(a, d[:]), sign(b, d2[:])
	r, s := parseSig(t, sa)
	flip := func(x *big.Int) *big.Int { return new(big.Int).Xor(x, big.NewInt(1<<5)) }
	flipped := d
	flipped[7] ^= 1
	hd := hex.EncodeToString(d[:])
	enc := base64.StdEncoding.EncodeToString
	c := func(name, key, digest string, sig []byte, want string) SigCase {
		return SigCase{Name: name, Key: key, Digest: digest, Signature: enc(sig), Want: want}
	}
	nonMinimal := []byte{0}
	if r.Bytes()[0] >= 0x80 {
		nonMinimal = []byte{0, 0}
	}
	return []SigCase{
		c("valid", pa, hd, sa, "ok"),
		c("valid, high s", pa, hd, sigDER(t, r, new(big.Int).Sub(order, s)), "ok"),
		c("valid, compressed key", compressedPEM(t, &b.PublicKey), hex.EncodeToString(d2[:]), sb, "ok"),
		c("flipped bit in r", pa, hd, sigDER(t, flip(r), s), "invalid"),
		c("flipped bit in s", pa, hd, sigDER(t, r, flip(s)), "invalid"),
		c("flipped bit in the digest", pa, hex.EncodeToString(flipped[:]), sa, "invalid"),
		c("signed by another key", pb, hd, sa, "invalid"),
		c("r = 0", pa, hd, sigDER(t, big.NewInt(0), s), "invalid"),
		c("s = 0", pa, hd, sigDER(t, r, big.NewInt(0)), "invalid"),
		c("r = n", pa, hd, sigDER(t, order, s), "invalid"),
		c("s = n", pa, hd, sigDER(t, r, order), "invalid"),
		c("s = n + 1", pa, hd, sigDER(t, r, new(big.Int).Add(order, big.NewInt(1))), "invalid"),
		c("r + n", pa, hd, sigDER(t, new(big.Int).Add(r, order), s), "invalid"),
		c("a byte after the signature", pa, hd, append(slices.Clone(sa), 0), "malformed"),
		c("truncated", pa, hd, sa[:len(sa)-1], "malformed"),
		c("negative r", pa, hd, derSeq(derInt(append([]byte{0xff}, r.Bytes()...)), derInt(s.Bytes())), "malformed"),
		c("r not in its shortest form", pa, hd, derSeq(derInt(append(nonMinimal, r.Bytes()...)), derInt(s.Bytes())), "malformed"),
		c("length not in its shortest form", pa, hd, append([]byte{0x30, 0x81}, sa[1:]...), "malformed"),
		c("no s", pa, hd, derSeq(derInt(r.Bytes())), "malformed"),
	}
}

func keyCases(t *testing.T) []KeyCase {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := fixedKey(t, "wharf ecdsa vectors: key a")
	der, err := x509.MarshalPKIXPublicKey(&a.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	off := der[len(der)-1:] // the last byte of y: y+1 (or y-1) is not on the curve
	off[0] ^= 1
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wharf"}}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &a.PublicKey, a)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.MarshalECPrivateKey(a)
	if err != nil {
		t.Fatal(err)
	}
	return []KeyCase{
		{"RSA key", publicPEM(t, &rk.PublicKey), "RSA keys are not supported: ECDSA P-256 only"},
		{"Ed25519 key", publicPEM(t, ed25519.NewKeyFromSeed(make([]byte, 32)).Public()), "Ed25519 keys are not supported"},
		{"P-384 key", publicPEM(t, &p384.PublicKey), "ECDSA P-384 keys are not supported"},
		{"point not on the curve", pemOf(t, "PUBLIC KEY", der), "not a point on P-256"},
		{"certificate", pemOf(t, "CERTIFICATE", cert), "-----BEGIN CERTIFICATE-----, not -----BEGIN PUBLIC KEY-----"},
		{"private key", pemOf(t, "EC PRIVATE KEY", priv), "-----BEGIN EC PRIVATE KEY-----, not -----BEGIN PUBLIC KEY-----"},
		{"not PEM", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n", "no PEM block"},
	}
}

const (
	cosignImage      = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"
	cosignRepository = "registry.example.com/wharf/base"
)

func simpleSigning(repository, digest string) string {
	return fmt.Sprintf(`{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, repository, digest)
}

func cosignCases(t *testing.T) Cosign {
	a, b := fixedKey(t, "wharf ecdsa vectors: key a"), fixedKey(t, "wharf ecdsa vectors: key b")
	c := Cosign{KeyA: publicPEM(t, &a.PublicKey), KeyB: publicPEM(t, &b.PublicKey), Image: cosignImage, Repository: cosignRepository}
	for _, p := range []struct{ name, payload string }{
		{"image", simpleSigning(cosignRepository, cosignImage)},
		{"another digest", simpleSigning(cosignRepository, "sha256:"+strings.Repeat("1", 64))},
		{"another repository", simpleSigning("registry.example.com/wharf/other", cosignImage)},
	} {
		d := sha256.Sum256([]byte(p.payload))
		sig, err := ecdsa.SignASN1(rand.Reader, a, d[:])
		if err != nil {
			t.Fatal(err)
		}
		c.Payloads = append(c.Payloads, Payload{p.name, p.payload, "sha256:" + hex.EncodeToString(d[:]), base64.StdEncoding.EncodeToString(sig)})
	}
	return c
}

func checkCosign(t *testing.T, c Cosign) {
	t.Helper()
	pub, err := goPublicKey(c.KeyA)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Payloads {
		d := sha256.Sum256([]byte(p.Payload))
		sig, err := base64.StdEncoding.DecodeString(p.Signature)
		if err != nil || p.Digest != "sha256:"+hex.EncodeToString(d[:]) || !ecdsa.VerifyASN1(pub, d[:], sig) {
			t.Errorf("cosign payload %s: digest or signature wrong (%v)", p.Name, err)
		}
	}
}

func generate(t *testing.T) Vectors {
	return Vectors{Signatures: signatureCases(t), Keys: keyCases(t), Cosign: cosignCases(t)}
}

const header = `"""ECDSA P-256 vectors made by Go's crypto/ecdsa for oci/private/ecdsa.bzl's tests.

Generated by ` + "`go test ./tools/dev/ecdsavectors -update`" + `: DO NOT EDIT.
"""

ECDSA_VECTORS = json.decode(r'''
`

func render(t *testing.T, v Vectors) []byte {
	t.Helper()
	j, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(header), j...), []byte("\n''')\n")...)
}

func readVectors(t *testing.T, text []byte) Vectors {
	t.Helper()
	body, ok := bytes.CutPrefix(text, []byte(header))
	body, ok2 := bytes.CutSuffix(body, []byte("\n''')\n"))
	var v Vectors
	if !ok || !ok2 {
		t.Fatalf("%s is not this generator's: run go test ./tools/dev/ecdsavectors -update", vectorsBzl)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", vectorsBzl, err)
	}
	return v
}

// goPublicKey is what Go makes of a key PEM: a P-256 key or an error.
func goPublicKey(key string) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(key))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("no PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		// Go's x509 reads only uncompressed points; SEC 1 allows compressed ones.
		var spki struct {
			Algorithm pkix.AlgorithmIdentifier
			PublicKey asn1.BitString
		}
		if _, err2 := asn1.Unmarshal(block.Bytes, &spki); err2 != nil {
			return nil, err
		}
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), spki.PublicKey.Bytes)
		if x == nil {
			return nil, err
		}
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, nil
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("a %T, not a P-256 key", pub)
	}
	return k, nil
}

func checkCase(t *testing.T, c SigCase) {
	t.Helper()
	pub, err := goPublicKey(c.Key)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	digest, err := hex.DecodeString(c.Digest)
	sig, err2 := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || err2 != nil {
		t.Fatalf("%s: %v %v", c.Name, err, err2)
	}
	if got := ecdsa.VerifyASN1(pub, digest, sig); got != (c.Want == "ok") {
		t.Errorf("%s: Go's ecdsa.VerifyASN1 says %v, the vector wants %q", c.Name, got, c.Want)
	}
}

func names[T any](cases []T, name func(T) string) []string {
	var out []string
	for _, c := range cases {
		out = append(out, name(c))
	}
	return out
}

func TestVectorsBzl(t *testing.T) {
	path := srctree.Path(t, vectorsBzl)
	want := generate(t)
	if *update {
		if err := os.WriteFile(path, render(t, want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := readVectors(t, text)
	sigName := func(c SigCase) string { return c.Name + " " + c.Want }
	keyName := func(c KeyCase) string { return c.Name + " " + c.Error }
	if !slices.Equal(names(got.Signatures, sigName), names(want.Signatures, sigName)) || !slices.Equal(names(got.Keys, keyName), names(want.Keys, keyName)) {
		t.Fatalf("%s's cases are not the generator's: run go test ./tools/dev/ecdsavectors -update", vectorsBzl)
	}
	if !slices.Equal(names(got.Cosign.Payloads, func(p Payload) string { return p.Name + " " + p.Payload }), names(want.Cosign.Payloads, func(p Payload) string { return p.Name + " " + p.Payload })) {
		t.Fatalf("%s's cosign payloads are not the generator's: run go test ./tools/dev/ecdsavectors -update", vectorsBzl)
	}
	checkCosign(t, got.Cosign)
	for _, c := range got.Signatures {
		checkCase(t, c)
	}
	for _, c := range got.Keys {
		if _, err := goPublicKey(c.Key); err == nil {
			t.Errorf("%s: Go reads a P-256 public key from it; the vector wants it refused", c.Name)
		}
	}
}
