package apktest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"time"
)

// NewCertificate returns a self-signed CA certificate for cn, PEM-encoded, and its DER.
func NewCertificate(cn string) (pemBytes, der []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Unix(4102444800, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), der, nil
}

// YAMLBlock indents a PEM as the body of a YAML block scalar (`content: |`) of a list
// item's key, eight spaces in.
func YAMLBlock(pemBytes []byte) string {
	return "        " + strings.ReplaceAll(strings.TrimSpace(string(pemBytes)), "\n", "\n        ") + "\n"
}
