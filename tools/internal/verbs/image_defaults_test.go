package verbs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// equivalenceConfig sets everything apko.yaml contributes to an image config.
const equivalenceConfig = `contents:
  packages: [busybox]
archs: [x86_64, aarch64]
entrypoint:
  command: /usr/bin/app --serve "a b"
cmd: --port 8080
work-dir: /srv
stop-signal: SIGTERM
environment:
  APP_MODE: prod
  PATH: /opt/bin:/usr/bin
  SHARED: from-config
accounts:
  run-as: app
  users:
    - username: app
      uid: 1000
annotations:
  org.opencontainers.image.title: from-config
  org.opencontainers.image.vendor: acme
volumes: [/data, /cache]
layering:
  strategy: origin
  budget: 3
`

// equivalenceRule is a rule's own spec that sets some of each: its values win.
const equivalenceRule = `{"os":"linux","architecture":"arm64","variant":"v8",
"cmd":["--port","9090"],
"env":{"SHARED":"from-rule","RULE":"1"},
"workdir":"",
"labels":{"org.opencontainers.image.vendor":"rule-label","only.label":"l"},
"annotations":{"org.opencontainers.image.title":"from-rule","only.annotation":"a"},
"exposed_ports":["8080"],
"volumes":["/rule","/data"],
"stop_signal":"SIGINT",
"created":"2024-05-06T07:08:09Z"}`

func imageOutputs(t *testing.T, dir string, args ...string) (config, manifest []byte) {
	t.Helper()
	out := func(n string) string { return filepath.Join(dir, n) }
	if err := imageVerb(append(args, "--config", out("config.json"), "--manifest", out("manifest.json"),
		"--digest", out("digest"), "--descriptor", out("descriptor.json"))); err != nil {
		t.Fatal(err)
	}
	config, _ = os.ReadFile(out("config.json"))
	manifest, _ = os.ReadFile(out("manifest.json"))
	return config, manifest
}

// The config and manifest the image verb gave for equivalenceRule with the configuration
// applied inside it (--apko-config, before the verb became generic): the defaults path must
// keep giving exactly these bytes.
const (
	goldenConfig   = `{"architecture":"arm64","created":"2024-05-06T07:08:09Z","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Cmd":["--port","9090"],"Entrypoint":["/usr/bin/app","--serve","a b"],"Env":["APP_MODE=prod","PATH=/opt/bin:/usr/bin","RULE=1","SHARED=from-rule","SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],"Labels":{"only.annotation":"a","only.label":"l","org.opencontainers.image.created":"2024-05-06T07:08:09Z","org.opencontainers.image.title":"from-rule","org.opencontainers.image.vendor":"rule-label"},"User":"1000","Volumes":{"/cache":{},"/data":{},"/rule":{}},"WorkingDir":"/srv","ExposedPorts":{"8080/tcp":{}},"StopSignal":"SIGINT"},"variant":"v8"}`
	goldenManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":668,"digest":"sha256:3fcebbf25103cbbd9c8d988f923543deb791adc3e09480aa8705008a08e9844b"},"layers":null,"annotations":{"only.annotation":"a","org.opencontainers.image.created":"2024-05-06T07:08:09Z","org.opencontainers.image.title":"from-rule","org.opencontainers.image.vendor":"acme"}}`
)

// TestImageDefaultsMatchApkoConfigFlags: image --spec S --defaults D, with D from
// apko-image-config and S the rule's spec with its annotations as labels too (as
// apk_image_contents and the image rule pass them), gives the bytes the verb gave when it
// read apko.yaml itself.
func TestImageDefaultsMatchApkoConfigFlags(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	os.WriteFile(p("apko.yaml"), []byte(equivalenceConfig), 0o644)
	os.WriteFile(p("user"), []byte("1000\n"), 0o644)
	os.WriteFile(p("rule.json"), []byte(equivalenceRule), 0o644)
	args, err := apkoImageArgs(dir, p("rule.json"), p("apko.yaml"), p("user"), "aarch64", "origin:3")
	if err != nil {
		t.Fatal(err)
	}
	config, manifest := imageOutputs(t, dir, args...)
	if string(config) != goldenConfig {
		t.Errorf("config differs:\nbefore: %s\nnow:    %s", goldenConfig, config)
	}
	if string(manifest) != goldenManifest {
		t.Errorf("manifest differs:\nbefore: %s\nnow:    %s", goldenManifest, manifest)
	}
}

// apkoImageArgs does for an image verb test what apk_image_contents and the image rule do
// for an apko.yaml: apko-image-config writes the defaults (created from the spec's), and
// the spec's annotations become its labels too. It returns the image verb's --spec-json
// and --defaults arguments.
func apkoImageArgs(dir, spec, config, user, arch, budget string) ([]string, error) {
	b, err := os.ReadFile(spec)
	if err != nil {
		return nil, err
	}
	var sf map[string]any
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, err
	}
	labels, _ := sf["labels"].(map[string]any)
	if annotations, ok := sf["annotations"].(map[string]any); ok {
		merged := map[string]any{}
		for k, v := range annotations {
			merged[k] = v
		}
		for k, v := range labels {
			merged[k] = v
		}
		sf["labels"] = merged
	}
	ruleSpec, _ := json.Marshal(sf)
	defaults := filepath.Join(dir, "defaults.json")
	args := []string{"--config", config, "--arch", arch, "--out", defaults}
	if layering, n, ok := strings.Cut(budget, ":"); ok { // "origin:N": apk_layering too
		args = append(args, "--apk-layering", layering)
		budget = n
	}
	args = append(args, "--apk-layer-budget", budget)
	if user != "" {
		args = append(args, "--user", user)
	}
	if created, _ := sf["created"].(string); created != "" {
		args = append(args, "--created", created)
	}
	if err := apkoImageConfigVerb(args); err != nil {
		return nil, err
	}
	return []string{"--spec-json", string(ruleSpec), "--defaults", defaults}, nil
}

// TestApkoImageConfig: the defaults hold what the configuration contributes, and nothing
// when it contributes nothing but apko's environment and the created annotation.
func TestApkoImageConfig(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	os.WriteFile(p("apko.yaml"), []byte(equivalenceConfig), 0o644)
	os.WriteFile(p("user"), []byte("1000\n"), 0o644)
	args := []string{"--config", p("apko.yaml"), "--arch", "x86_64", "--apk-layer-budget", "3", "--apk-layering", "origin", "--out", p("d.json")}
	if err := apkoImageConfigVerb(append(args, "--user", p("user"))); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p("d.json"))
	const want = `{
  "entrypoint": [
    "/usr/bin/app",
    "--serve",
    "a b"
  ],
  "cmd": [
    "--port",
    "8080"
  ],
  "env": {
    "APP_MODE": "prod",
    "PATH": "/opt/bin:/usr/bin",
    "SHARED": "from-config",
    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt"
  },
  "user": "1000",
  "workdir": "/srv",
  "labels": {
    "org.opencontainers.image.created": "1970-01-01T00:00:00Z",
    "org.opencontainers.image.title": "from-config",
    "org.opencontainers.image.vendor": "acme"
  },
  "annotations": {
    "org.opencontainers.image.created": "1970-01-01T00:00:00Z",
    "org.opencontainers.image.title": "from-config",
    "org.opencontainers.image.vendor": "acme"
  },
  "volumes": [
    "/data",
    "/cache"
  ],
  "stop_signal": "SIGTERM"
}
`
	if string(got) != want {
		t.Errorf("defaults:\n%s\nwant:\n%s", got, want)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no user", args, "accounts.run-as is set but no resolved user was given"},
		{"arch", append(append([]string{}, args...), "--arch", "s390x"), "archs lists x86_64, aarch64, not s390x"},
		{"budget", append(append([]string{}, args...), "--apk-layer-budget", "2"), `set apk_layering = "origin" and apk_layer_budget = 3`},
		{"created", append(append([]string{}, args...), "--user", p("user"), "--created", "yesterday"), "--created: "},
	} {
		os.Remove(p("d.json"))
		err := apkoImageConfigVerb(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
		if _, serr := os.Stat(p("d.json")); serr == nil {
			t.Errorf("%s: output left behind", tc.name)
		}
	}
}

// TestImageDefaultsOrderAndEnvCheck: an earlier --defaults file wins over a later one, and
// the environment check applies to the merged environment.
func TestImageDefaultsOrderAndEnvCheck(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	const spec = `{"os":"linux","architecture":"amd64","env":{"A":"spec"}}`
	os.WriteFile(p("d1.json"), []byte(`{"user":"one","env":{"A":"d1","B":"d1"},"volumes":["/b"]}`), 0o644)
	os.WriteFile(p("d2.json"), []byte(`{"user":"two","workdir":"/w","env":{"B":"d2","C":"d2"},"volumes":["/a","/b"]}`), 0o644)
	cfg, _ := imageOutputs(t, dir, "--spec-json", spec, "--defaults", p("d1.json"), "--defaults", p("d2.json"))
	const want = `"Env":["A=spec","B=d1","C=d2"],"User":"one","Volumes":{"/a":{},"/b":{}},"WorkingDir":"/w"`
	if !strings.Contains(string(cfg), want) {
		t.Errorf("config %s, want %s", cfg, want)
	}
	os.WriteFile(p("bad.json"), []byte(`{"env":{"X=Y":"1"}}`), 0o644)
	out := t.TempDir()
	err := imageVerb([]string{"--spec-json", spec, "--defaults", p("bad.json"), "--config", filepath.Join(out, "c"),
		"--manifest", filepath.Join(out, "m"), "--digest", filepath.Join(out, "d"), "--descriptor", filepath.Join(out, "desc")})
	if err == nil || !strings.Contains(err.Error(), `variable name "X=Y" contains '='`) {
		t.Errorf("bad env in defaults: %v", err)
	}
	os.WriteFile(p("os.json"), []byte(`{"os":"linux"}`), 0o644)
	err = imageVerb([]string{"--spec-json", spec, "--defaults", p("os.json"), "--config", filepath.Join(out, "c"),
		"--manifest", filepath.Join(out, "m"), "--digest", filepath.Join(out, "d"), "--descriptor", filepath.Join(out, "desc")})
	if err == nil || !strings.Contains(err.Error(), "sets os, which is no default") {
		t.Errorf("os in defaults: %v", err)
	}
	if left := entries(t, out); len(left) != 0 {
		t.Errorf("left behind %v", left)
	}
}
