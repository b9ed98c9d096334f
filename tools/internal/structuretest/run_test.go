package structuretest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testConfig = `{"architecture":"amd64","os":"linux","config":{"User":"65532","Env":["PATH=/usr/bin:/bin","APP=/opt/old"],
"Entrypoint":["/usr/bin/hello"],"Cmd":["serve"],"WorkingDir":"/srv","ExposedPorts":{"8080/tcp":{}},
"Volumes":{"/data":{}},"Labels":{"org.example.team":"infra"}},"rootfs":{"type":"layers","diff_ids":[]}}`

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runYAML runs one CST file against the test image and returns the report and its error.
func runYAML(t *testing.T, yaml string, p Policy) (string, error) {
	t.Helper()
	d := t.TempDir()
	o := Options{
		Configs:     []string{writeFile(t, d, "cst.yaml", "schemaVersion: 2.0.0\n"+yaml)},
		ImageConfig: writeFile(t, d, "config.json", testConfig),
		Layers:      testLayers(t),
		Policy:      p,
	}
	results, err := Run(o)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	err = Report(&out, results)
	return out.String(), err
}

func TestPassingChecks(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no runc: the command test is skipped
	report, err := runYAML(t, `
fileExistenceTests:
- {name: sh, path: /bin/sh, permissions: -rwxr-xr-x, isExecutableBy: any, uid: 0, gid: 0}
- {name: env path, path: "${APP}/b"}
- {name: gone, path: /usr/lib/gone, shouldExist: false}
fileContentTests:
- {name: release, path: /etc/release, expectedContents: ["ID=alpine"], excludedContents: ["debian"]}
metadataTest:
  envVars: [{key: PATH, value: "/usr/.*", isRegex: true}]
  unboundEnvVars: [{key: HOME}]
  labels: [{key: org.example.team, value: infra}]
  entrypoint: [/usr/bin/hello]
  cmd: [serve]
  workdir: /srv
  user: "65532"
  exposedPorts: ["8080"]
  unexposedPorts: ["22"]
  volumes: [/data]
  unmountedVolumes: [/tmp]
licenseTests:
- debian: true
  files: [/etc/os-release]
commandTests:
- {name: hello, command: /usr/bin/hello}
`, Policy{})
	if err != nil {
		t.Fatalf("%v\n%s", err, report)
	}
	for _, want := range []string{"=== PASS: File Existence Test: sh", "=== PASS: Metadata Test", "=== PASS: License Test",
		"=== SKIPPED: Command Test: hello", "    SKIPPED: commandTests run under runc, and no runc is on PATH", "Passes: 6, Failures: 0, Skipped: 1, Total: 7"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

// failingYAML breaks every kind of check on the test image.
const failingYAML = `
fileExistenceTests:
- {name: missing, path: /bin/bash}
- {name: perms, path: /bin/sh, permissions: -rw-r--r--, uid: 1000, gid: 7}
- {name: exec, path: /var/secret, isExecutableBy: other}
- {name: bad exec, path: /bin/sh, isExecutableBy: nobody}
- {name: present, path: /usr/bin/su, shouldExist: false}
fileContentTests:
- {name: release, path: /etc/os-release, expectedContents: ["ID=debian", "("], excludedContents: ["alpine"]}
- {name: dir, path: /etc}
metadataTest:
  envVars: [{key: PATH, value: /sbin}, {key: NOPE, value: x}]
  unboundEnvVars: [{key: APP}]
  labels: [{key: org.example.team, value: "^dev", isRegex: true}]
  entrypoint: [/bin/sh]
  cmd: []
  workdir: /
  user: root
  exposedPorts: ["443"]
  unexposedPorts: ["8080"]
  volumes: [/var]
  unmountedVolumes: [/data]
licenseTests:
- files: [/etc/agpl]
`

func TestFailingChecksSayExpectedAndFound(t *testing.T) {
	report, err := runYAML(t, failingYAML, Policy{})
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Report = %v, want ErrFailed\n%s", err, report)
	}
	for _, want := range []string{
		"=== FAIL: File Existence Test: missing\n    File /bin/bash should exist but does not, got error: /bin/bash: no such file or directory",
		"/bin/sh has incorrect permissions. Expected: -rw-r--r--, Actual: -rwxr-xr-x",
		"/bin/sh has incorrect user ownership. Expected: 1000, Actual: 0",
		"/bin/sh has incorrect group ownership. Expected: 7, Actual: 0",
		"/var/secret has incorrect executable bit. Expected to be executable by other, Actual: -rw-------",
		`isExecutableBy "nobody" not recognised`,
		"File /usr/bin/su should not exist but does",
		"Expected string 'ID=debian' not found in file content string 'ID=alpine",
		`expectedContents "(": error parsing regexp`,
		"Excluded string 'alpine' found in file content string",
		"Failed to open /etc. Error: /etc: not a regular file",
		"env var PATH value /usr/bin:/bin does not match expected value: /sbin",
		"env var NOPE not found in image metadata",
		"env variable APP should not be present in image metadata",
		"label org.example.team value infra does not match expected value: ^dev",
		`Image Entrypoint ["/usr/bin/hello"] does not match expected Entrypoint: ["/bin/sh"]`,
		`Image Cmd ["serve"] does not match expected Cmd: []`,
		"Image workdir /srv does not match config workdir: /",
		"Image user 65532 does not match config user: root",
		"Port 443 not found in config (exposed: [8080])",
		"Port 8080 should not be exposed",
		"Volume /var not found in config (volumes: [/data])",
		"Volume /data should not be mounted",
		"Error reading license file for /etc/agpl: /etc/agpl: no such file or directory",
		"Passes: 0, Failures: 9, Skipped: 0, Total: 9",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

func TestLicenseRefused(t *testing.T) {
	d := t.TempDir()
	layers := []Layer{writeLayer(t, d, "l", "gz",
		file("usr/share/doc/bad/copyright", "License: agpl-3\n", 0o644), dir("usr/share/doc/nocopy", 0o755),
		file("usr/share/doc/libgnutls30/copyright", "WTFPL", 0o644))}
	results, err := Run(Options{
		Configs:     []string{writeFile(t, d, "c.yaml", "schemaVersion: 2.0.0\nlicenseTests: [{debian: true}]\n")},
		ImageConfig: writeFile(t, d, "config.json", testConfig),
		Layers:      layers,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Report(&out, results)
	for _, want := range []string{
		"Invalid license for /usr/share/doc/bad/copyright, license contains AGPL",
		"Error reading license file for /usr/share/doc/nocopy/copyright",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "libgnutls30") {
		t.Errorf("libgnutls30 is exempt, as in CST:\n%s", out.String())
	}
}

func TestBadConfigNamesTheFile(t *testing.T) {
	d := t.TempDir()
	for body, want := range map[string]string{
		"schemaVersion: 1.0.0\n":                                           `schemaVersion "1.0.0": only container-structure-test's 2.0.0 is read`,
		"schemaVersion: 2.0.0\nfileExistenceTests: [{path: /x}]\n":         "fileExistenceTests[0]: every test needs a name and a path",
		"schemaVersion: 2.0.0\nfileContentTests: [{name: x}]\n":            "fileContentTests[0]: every test needs a name and a path",
		"schemaVersion: 2.0.0\ncommandTests: [{name: x}]\n":                "commandTests[0]: every test needs a name and a command",
		"schemaVersion: 2.0.0\nmetadataTest: {envVars: [{value: x}]}\n":    "metadataTest: an env var or label has an empty key",
		"schemaVersion: 2.0.0\nfileExistenceTests: [{name: a, pth: /x}]\n": "field pth not found",
	} {
		f := writeFile(t, d, "c.yaml", body)
		_, err := LoadConfig(f)
		if err == nil || !strings.Contains(err.Error(), f+": ") || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadConfig(%q) = %v, want %q naming the file", body, err, want)
		}
	}
}
