package verbs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apktest"
)

// The apko layer carries the additional certificate's file and the runtime key.
func TestApkoLayerCertificatesAndRuntimeKeys(t *testing.T) {
	dir, args := apkoFixture(t)
	cert, _, err := apktest.NewCertificate("corp")
	if err != nil {
		t.Fatal(err)
	}
	key, err := apktest.NewKey("corp.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "apko.yaml")
	os.WriteFile(config, []byte("contents:\n  packages: [base]\n  runtime_keyring:\n    - name: corp.rsa.pub\n      content: |\n"+apktest.YAMLBlock(key.PublicPEM())+
		"certificates:\n  additional:\n    - name: corp\n      content: |\n"+apktest.YAMLBlock(cert)), 0o644)
	w := func(s string) string { return filepath.Join(dir, s) }
	if err := apkoLayerVerb(append(args, "--config", config, "--arch", "x86_64", "--blob", w("out.blob"), "--metadata", w("out.meta"), "--user", w("out.user"))); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(readLayer(t, w("out.blob")), "\n")
	for _, want := range []string{"etc/apk/keys/corp.rsa.pub 0 0644 0:0", "usr/local/share/ca-certificates/ 5 0755 0:0", "usr/local/share/ca-certificates/corp-"} {
		if !strings.Contains(got, want) {
			t.Errorf("layer has no %q:\n%s", want, got)
		}
	}
}

// A configuration error fails the action with the file and the entry named, and writes no
// output.
func TestApkoLayerCertificateErrors(t *testing.T) {
	dir, args := apkoFixture(t)
	key, err := apktest.NewKey("corp.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	runtimeKey := "    - name: corp.rsa.pub\n      content: |\n" + apktest.YAMLBlock(key.PublicPEM())
	for _, tc := range []struct{ name, yaml, want string }{
		{"pem", "certificates:\n  additional:\n    - name: corp\n      content: hello\n",
			"certificates.additional[0] (corp): no certificates found in PEM data"},
		{"duplicate", "contents:\n  runtime_keyring:\n" + runtimeKey + runtimeKey,
			"contents.runtime_keyring[1] (corp.rsa.pub): a duplicate of contents.runtime_keyring[0]: both would be /etc/apk/keys/corp.rsa.pub"},
		{"collision", "contents:\n  runtime_keyring:\n" + runtimeKey + "paths:\n  - path: /etc/apk/keys/corp.rsa.pub\n    type: directory\n    permissions: 0o755\n",
			"contents.runtime_keyring corp.rsa.pub: /etc/apk/keys/corp.rsa.pub exists already (a directory, from the packages, the keyring or paths), and apko does not overwrite it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := filepath.Join(dir, tc.name+".yaml")
			os.WriteFile(config, []byte(tc.yaml), 0o644)
			out := t.TempDir()
			w := func(s string) string { return filepath.Join(out, s) }
			err := apkoLayerVerb(append(args, "--config", config, "--arch", "x86_64", "--blob", w("blob"), "--metadata", w("meta"), "--user", w("user")))
			if want := config + ": " + tc.want; err == nil || err.Error() != want {
				t.Errorf("got %v\nwant %s", err, want)
			}
			if left, _ := os.ReadDir(out); len(left) != 0 {
				t.Errorf("outputs left behind: %v", left)
			}
		})
	}
}
