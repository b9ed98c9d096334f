package apkoconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

// indent makes a PEM a YAML block scalar's body (keys_test.go uses it too).
func indent(b []byte) string { return apktest.YAMLBlock(b) }

func TestCertificatesAndRuntimeKeyring(t *testing.T) {
	cert, der, err := apktest.NewCertificate("corp root")
	if err != nil {
		t.Fatal(err)
	}
	key, err := apktest.NewKey("corp.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	// Text around the block is dropped, as apko re-encodes.
	y := "contents:\n  packages: [a]\n  runtime_keyring:\n    - name: corp.rsa.pub\n      content: |\n" + indent(append([]byte("comment\n"), key.PublicPEM()...)) +
		"certificates:\n  providers: [custom-ca-certificates]\n  additional:\n    - name: corp\n      content: |\n" + indent(append([]byte("Subject: corp root\n"), cert...)) +
		"    - name: corp\n      content: |\n" + indent(cert)
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	if got := c.Certificates; got == nil || len(got.Additional) != 2 || got.Additional[0].Name != "corp" || string(got.Additional[0].PEM) != string(cert) ||
		got.Additional[0].Fingerprint != hex.EncodeToString(sum[:]) || string(got.Additional[1].DER) != string(der) ||
		fmt.Sprint(got.Providers) != "[custom-ca-certificates]" {
		t.Errorf("certificates = %+v", got)
	}
	if k := c.Contents.RuntimeKeyring; len(k) != 1 || k[0].Name != "corp.rsa.pub" || string(k[0].PEM) != string(key.PublicPEM()) {
		t.Errorf("runtime_keyring = %+v", k)
	}
	if c, err := Parse([]byte("contents:\n  packages: [a]\n")); err != nil || c.Certificates != nil {
		t.Errorf("no certificates: %+v, %v", c, err)
	}
}

// Every way a certificate or a runtime key is refused, with the message a user reads.
func TestCertificateAndRuntimeKeyErrors(t *testing.T) {
	cert, _, err := apktest.NewCertificate("corp root")
	if err != nil {
		t.Fatal(err)
	}
	key, err := apktest.NewKey("corp.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})
	bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})
	certs := func(name string, content []byte) string {
		return "certificates:\n  additional:\n    - name: " + name + "\n      content: |\n" + indent(content)
	}
	keys := func(entries ...string) string {
		s := "contents:\n  runtime_keyring:\n"
		for i := 0; i < len(entries); i += 2 {
			s += "    - name: " + entries[i] + "\n      content: |\n" + indent([]byte(entries[i+1]))
		}
		return s
	}
	pub := string(key.PublicPEM())
	for _, tc := range []struct{ yaml, want string }{
		{certs("corp", bad), "certificates.additional[0] (corp): failed to parse certificate: x509: malformed certificate"},
		{certs("corp", []byte("hello")), "certificates.additional[0] (corp): no certificates found in PEM data"},
		{certs("corp", append(append([]byte{}, cert...), cert...)), "certificates.additional[0] (corp): multiple certificates found; only one is allowed"},
		{certs("corp", key.PublicPEM()), "certificates.additional[0] (corp): expected CERTIFICATE block, got PUBLIC KEY"},
		{certs("../etc/x", cert), `certificates.additional[0] (../etc/x): invalid name, it must match ^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$`},
		{"certificates:\n  additional:\n    - content: x\n", "certificates.additional[0]: no name"},
		{"certificates:\n  additional:\n    - name: a\n", "certificates.additional[0] (a): no certificate data provided"},
		{keys("a.rsa.pub", pub, "b.rsa.pub", pub, "a.rsa.pub", pub), "contents.runtime_keyring[2] (a.rsa.pub): a duplicate of contents.runtime_keyring[0]: both would be /etc/apk/keys/a.rsa.pub"},
		{keys("a.rsa.pub", "hello"), "contents.runtime_keyring[0] (a.rsa.pub): no PEM block found"},
		{keys("a.rsa.pub", string(cert)), "contents.runtime_keyring[0] (a.rsa.pub): expected PUBLIC KEY block, got CERTIFICATE"},
		{keys("a.rsa.pub", pub+pub), "contents.runtime_keyring[0] (a.rsa.pub): multiple PEM blocks found; only one is allowed"},
		{keys("a.rsa.pub", string(ecPEM)), "contents.runtime_keyring[0] (a.rsa.pub): expected an RSA public key, got *ecdsa.PublicKey"},
		{keys("a.rsa.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("x")}))), "contents.runtime_keyring[0] (a.rsa.pub): failed to parse public key: "},
		{keys("keys/a.rsa.pub", pub), "contents.runtime_keyring[0] (keys/a.rsa.pub): invalid name, it must match"},
		{"contents:\n  runtime_keyring:\n    - content: x\n", "contents.runtime_keyring[0]: no name"},
		{"contents:\n  runtime_keyring:\n    - name: a.rsa.pub\n", "contents.runtime_keyring[0] (a.rsa.pub): no content"},
		{"contents:\n  runtime_keyring:\n    - name: a\n      url: https://x\n", "yaml: unmarshal errors:\n  line 4: unknown key url (in runtimekey)"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v\nwant %s", tc.yaml, err, tc.want)
		}
	}
}
