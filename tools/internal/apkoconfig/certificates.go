package apkoconfig

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
)

// Certificates is apko's `certificates`: CA certificates added to the image's bundles and
// Java truststores (apko v1.2.39 pkg/build/certificates.go).
type Certificates struct {
	// Additional certificates, in file order, each checked to be one PEM certificate.
	Additional []Certificate
	// Providers are virtual package names: the installed packages that provide one of
	// them contribute their usr/local/share/ca-certificates/**.crt|.pem files.
	Providers []string
}

// Certificate is one parsed certificate.
type Certificate struct {
	// Name is the entry's name in apko.yaml ("pkg" for a package's file).
	Name string
	// PEM is the certificate re-encoded (text around the block dropped), as apko writes it.
	PEM []byte
	// DER is the certificate's encoding; Fingerprint is its sha256 in hex.
	DER         []byte
	Fingerprint string
}

// RuntimeKey is one entry of contents.runtime_keyring: a key written to /etc/apk/keys/Name.
type RuntimeKey struct {
	Name string
	// PEM is the RSA public key re-encoded as apko writes it.
	PEM []byte
}

type rawCertificates struct {
	Additional []rawCertificate `yaml:"additional"`
	Providers  []string         `yaml:"providers"`
}

// rawCertificate is apko's AdditionalCertificateEntry.
type rawCertificate struct {
	Name    string `yaml:"name"`
	Content string `yaml:"content"`
}

// rawRuntimeKey is apko's RuntimeKeyringEntry (its own type, so errors say "in runtimekey").
type rawRuntimeKey rawCertificate

// certName is apko's certNameRegex: a file name without path separators.
var certName = regexp.MustCompile(`^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$`)

// convertCertificates checks `certificates` as apko's Validate and installCertificates do.
// Two entries may share a name, as in apko: their files differ by fingerprint.
func convertCertificates(raw *rawCertificates) (*Certificates, error) {
	if raw == nil {
		return nil, nil
	}
	c := &Certificates{Providers: raw.Providers}
	for i, a := range raw.Additional {
		where := fmt.Sprintf("certificates.additional[%d]", i)
		if a.Name == "" {
			return nil, fmt.Errorf("%s: no name", where)
		}
		where += " (" + a.Name + ")"
		if !certName.MatchString(a.Name) {
			return nil, fmt.Errorf("%s: invalid name, it must match %s", where, certName)
		}
		cert, err := ParseCertificate([]byte(a.Content))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		cert.Name = a.Name
		c.Additional = append(c.Additional, *cert)
	}
	return c, nil
}

// ParseCertificate reads exactly one PEM CERTIFICATE block, as apko's parseCertificates.
func ParseCertificate(data []byte) (*Certificate, error) {
	if len(data) == 0 {
		return nil, errors.New("no certificate data provided")
	}
	var cert *Certificate
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if cert != nil {
			return nil, errors.New("multiple certificates found; only one is allowed")
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("expected CERTIFICATE block, got %s", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("failed to parse certificate: %w", err)
		}
		sum := sha256.Sum256(block.Bytes)
		cert = &Certificate{PEM: pem.EncodeToMemory(block), DER: block.Bytes, Fingerprint: hex.EncodeToString(sum[:])}
	}
	if cert == nil {
		return nil, errors.New("no certificates found in PEM data")
	}
	return cert, nil
}

// convertRuntimeKeyring checks contents.runtime_keyring as apko's Validate does and parses
// each key as its installRuntimeKeyring does (here, so a bad key fails at load).
func convertRuntimeKeyring(raw []rawRuntimeKey) ([]RuntimeKey, error) {
	var out []RuntimeKey
	seen := map[string]int{}
	for i, k := range raw {
		where := fmt.Sprintf("contents.runtime_keyring[%d]", i)
		if k.Name == "" {
			return nil, fmt.Errorf("%s: no name", where)
		}
		where += " (" + k.Name + ")"
		if k.Content == "" {
			return nil, fmt.Errorf("%s: no content", where)
		}
		if !certName.MatchString(k.Name) {
			return nil, fmt.Errorf("%s: invalid name, it must match %s", where, certName)
		}
		if j, dup := seen[k.Name]; dup {
			return nil, fmt.Errorf("%s: a duplicate of contents.runtime_keyring[%d]: both would be /etc/apk/keys/%s", where, j, k.Name)
		}
		seen[k.Name] = i
		key, err := parsePublicKey([]byte(k.Content))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, RuntimeKey{Name: k.Name, PEM: key})
	}
	return out, nil
}

// parsePublicKey is apko's: exactly one PEM PUBLIC KEY block holding an RSA key,
// re-encoded.
func parsePublicKey(data []byte) ([]byte, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("expected PUBLIC KEY block, got %s", block.Type)
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("multiple PEM blocks found; only one is allowed")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("failed to parse public key: %w", err)
	}
	if _, ok := pub.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("expected an RSA public key, got %T", pub)
	}
	var buf bytes.Buffer
	if err := pem.Encode(&buf, &pem.Block{Type: "PUBLIC KEY", Bytes: block.Bytes}); err != nil {
		return nil, fmt.Errorf("failed to re-encode public key: %w", err)
	}
	return buf.Bytes(), nil
}
