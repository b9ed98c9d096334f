package structuretest

import (
	"errors"
	"strings"
	"testing"
)

const testSBOM = `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"img",
"documentNamespace":"https://example.com/img","creationInfo":{"created":"1970-01-01T00:00:00Z","creators":["Tool: wharf"]},
"packages":[
{"name":"img","SPDXID":"SPDXRef-Image","downloadLocation":"NOASSERTION","primaryPackagePurpose":"CONTAINER","licenseDeclared":"NOASSERTION"},
{"name":"//app:layer","SPDXID":"SPDXRef-Layer-0","downloadLocation":"NOASSERTION","primaryPackagePurpose":"ARCHIVE","licenseDeclared":"NOASSERTION"},
{"name":"busybox","SPDXID":"SPDXRef-Package-busybox","versionInfo":"1.36.1-r2","downloadLocation":"NOASSERTION","licenseDeclared":"GPL-2.0-only"},
{"name":"musl","SPDXID":"SPDXRef-Package-musl","versionInfo":"1.2.5-r0","downloadLocation":"NOASSERTION","licenseDeclared":"MIT"},
{"name":"libfoo","SPDXID":"SPDXRef-Package-libfoo","versionInfo":"2","downloadLocation":"NOASSERTION","licenseDeclared":"(Apache-2.0 WITH LLVM-exception OR AGPL-3.0-only)"}]}`

// policyReport runs the test image under p (no CST checks) and returns the report.
func policyReport(t *testing.T, p Policy) string {
	t.Helper()
	if p.needsSBOM() {
		p.SBOM = writeFile(t, t.TempDir(), "sbom.spdx.json", testSBOM)
	}
	report, err := runYAML(t, "", p)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Report = %v, want ErrFailed\n%s", err, report)
	}
	return report
}

// Each rule fails on the test image, naming the path, package or field and the rule.
func TestEachPolicyRuleNamesWhatBrokeIt(t *testing.T) {
	if r := policyReport(t, Policy{NoWorldWritable: true}); strings.Count(r, "rule no_world_writable") != 1 {
		t.Errorf("only /etc/motd is world-writable (not /tmp, /dev/null or a symlink):\n%s", r)
	}
	for _, c := range []struct {
		p    Policy
		want []string
	}{
		{Policy{NoSetuid: true}, []string{"=== FAIL: Policy: no setuid/setgid files", "/usr/bin/su is urwxr-xr-x (setuid/setgid): rule no_setuid", "/usr/bin/su2 is urwxr-xr-x"}},
		{Policy{NoWorldWritable: true}, []string{"/etc/motd is -rw-rw-rw- (world-writable): rule no_world_writable"}},
		{Policy{ForbiddenPaths: []string{"/bin/sh", "/usr/bin/sh", "/sbin/apk"}}, []string{"/bin/sh is in the image (-rwxr-xr-x): rule forbidden_paths", "/usr/bin/sh is in the image (Lrwxrwxrwx)"}},
		{Policy{ForbiddenPackages: []string{"busybox", "apk-tools"}}, []string{"package busybox@1.36.1-r2 is in the image: rule forbidden_packages"}},
		{Policy{DeniedPackages: []string{"musl"}}, []string{"package musl@1.2.5-r0 is denied: rule denied_packages"}},
		{Policy{AllowedPackages: []string{"musl", "busybox"}}, []string{"package libfoo@2 is not in allowed_packages: rule allowed_packages"}},
		{Policy{DeniedLicenses: []string{"AGPL-3.0-only"}}, []string{"package libfoo@2 has license AGPL-3.0-only ((Apache-2.0 WITH LLVM-exception OR AGPL-3.0-only)): rule denied_licenses"}},
		{Policy{AllowedLicenses: []string{"MIT", "Apache-2.0", "AGPL-3.0-only"}}, []string{"package busybox@1.36.1-r2 has license GPL-2.0-only (GPL-2.0-only), not in allowed_licenses: rule allowed_licenses"}},
		{Policy{AllowedBaseDigests: []string{"sha256:aaa"}, BaseDigest: "sha256:bbb", BaseDiffIDs: []string{"sha256:ccc"}}, []string{
			"base image digest sha256:bbb is not in allowed_base_digests [sha256:aaa]: rule allowed_base_digests",
			"the image's bottom layers are not those of base image sha256:bbb: rule allowed_base_digests"}},
	} {
		report := policyReport(t, c.p)
		if strings.Contains(report, "img@") || strings.Contains(report, "//app:layer") {
			t.Errorf("%+v: the image and its layers are not packages:\n%s", c.p, report)
		}
		for _, want := range c.want {
			if !strings.Contains(report, want) {
				t.Errorf("%+v: report lacks %q:\n%s", c.p, want, report)
			}
		}
	}
}

func TestNonRoot(t *testing.T) {
	for user, root := range map[string]bool{"": true, "0": true, "root:root": true, "65532": false, "nonroot": false} {
		if got := rootUser(user, []byte("root:x:0:0::/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n")); got != root {
			t.Errorf("rootUser(%q) = %v, want %v", user, got, root)
		}
	}
	if !rootUser("admin", []byte("admin:x:0:0::/:/bin/sh\n")) {
		t.Error("a name /etc/passwd gives uid 0 is root")
	}
	report, err := runYAML(t, "", Policy{NonRoot: true})
	if err != nil || !strings.Contains(report, "=== PASS: Policy: user is not root") {
		t.Errorf("user 65532: %v\n%s", err, report)
	}
}

func TestPolicyPassesWhenObeyed(t *testing.T) {
	p := Policy{ForbiddenPaths: []string{"/bin/bash", "/sbin/apk"}, ForbiddenPackages: []string{"apk-tools"},
		AllowedLicenses: []string{"MIT", "GPL-2.0-only", "Apache-2.0", "AGPL-3.0-only"}, DeniedPackages: []string{"openssl"},
		AllowedBaseDigests: []string{"sha256:bbb"}, BaseDigest: "sha256:bbb"}
	p.SBOM = writeFile(t, t.TempDir(), "sbom.spdx.json", testSBOM)
	report, err := runYAML(t, "", p)
	if err != nil {
		t.Errorf("%v\n%s", err, report)
	}
}

func TestPackageRulesNeedAnSBOM(t *testing.T) {
	_, err := runYAML(t, "", Policy{ForbiddenPackages: []string{"busybox"}})
	if err == nil || !strings.Contains(err.Error(), "package or license rules need the image's SBOM") {
		t.Errorf("Run = %v", err)
	}
	p := Policy{DeniedPackages: []string{"x"}, SBOM: writeFile(t, t.TempDir(), "bad.json", "{")}
	if _, err := runYAML(t, "", p); err == nil || !strings.Contains(err.Error(), "SBOM "+p.SBOM) {
		t.Errorf("Run with a broken SBOM = %v, want it named", err)
	}
}
