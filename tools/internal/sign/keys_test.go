package sign

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func password(pw string) Password {
	return func() ([]byte, bool) { return []byte(pw), true }
}

func noPassword() ([]byte, bool) { return nil, false }

// Each key kind cosign's files hold signs, and the signature verifies with its public key.
func TestLoadKeyKinds(t *testing.T) {
	dir := t.TempDir()
	ec := ecKey(t)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	files := map[string]string{
		"cosign encrypted": cosignKey(t, dir, ec, "s3cret-pw"),
		"pkcs8 ecdsa":      writePEM(t, dir, "ec8.pem", "PRIVATE KEY", pkcs8(t, ec)),
		"sec1 ecdsa":       writePEM(t, dir, "ec.pem", "EC PRIVATE KEY", ecDER),
		"pkcs8 rsa":        writePEM(t, dir, "rsa8.pem", "PRIVATE KEY", pkcs8(t, rk)),
		"pkcs1 rsa":        writePEM(t, dir, "rsa.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)),
		"pkcs8 ed25519":    writePEM(t, dir, "ed.pem", "PRIVATE KEY", pkcs8(t, ed)),
	}
	for what, f := range files {
		k, err := LoadKey(f, password("s3cret-pw"))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		s := &KeySigner{Key: k, File: f}
		sig, err := s.Sign(context.Background(), "img", []byte("payload"), SimpleSigningMediaType)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := rawVerify(sig.PublicKey, []byte("payload"), sig.Sig); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		if rawVerify(sig.PublicKey, []byte("payloaD"), sig.Sig) == nil {
			t.Errorf("%s: a signature verified over other bytes", what)
		}
		pub, _ := MarshalPublicKey(k.Public())
		if _, err := ParsePublicKey(pub); err != nil {
			t.Errorf("%s: public key: %v", what, err)
		}
	}
}

// Every way a key file fails says which file and why, and never quotes the key or the
// password.
func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	ec := ecKey(t)
	enc := cosignKey(t, dir, ec, "s3cret-pw")
	pub, _ := x509.MarshalPKIXPublicKey(ec.Public())
	notPEM := filepath.Join(dir, "notpem")
	os.WriteFile(notPEM, []byte("s3cret-pw garbage"), 0o600)
	cases := []struct {
		file string
		pw   Password
		want string
	}{
		{enc, password("wrong"), "cannot decrypt it: wrong password"},
		{enc, noPassword, "it is encrypted and no password is set: set $COSIGN_PASSWORD"},
		{writePEM(t, dir, "pub.pem", "PUBLIC KEY", pub), noPassword, `PEM block "PUBLIC KEY" is not a private key`},
		{notPEM, noPassword, "not a PEM file"},
		{filepath.Join(dir, "absent.key"), noPassword, "no such file"},
		{writePEM(t, dir, "bad.key", sigstoreKeyType, []byte(`{"kdf":{"name":"scrypt","params":{"N":1024,"r":8,"p":1}},"cipher":{"name":"nacl/secretbox"}}`)), noPassword, "scrypt parameters N=1024 r=8 p=1 are not cosign's"},
	}
	secretDER := string(pkcs8(t, ec))
	for _, c := range cases {
		_, err := LoadKey(c.file, c.pw)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: got %v, want the file and %q", c.file, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(err.Error(), secretDER) {
			t.Errorf("%s: the message holds a secret: %v", c.file, err)
		}
	}
}

func TestParsePublicKeyErrors(t *testing.T) {
	for in, want := range map[string]string{
		"nope": "not a PEM public key",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n": `PEM block "PRIVATE KEY": want "PUBLIC KEY" or "CERTIFICATE"`,
	} {
		if _, err := ParsePublicKey([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}
