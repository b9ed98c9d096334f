package apkoconfig

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/shlex"

	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// DefaultEnv is what apko sets when the configuration does not (pkg/build/oci/image.go).
var DefaultEnv = map[string]string{
	"PATH":          "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin",
	"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
}

// CheckArch refuses to build for an APK architecture the configuration does not list.
func (c *Config) CheckArch(arch string) error {
	if len(c.Archs) == 0 {
		return nil
	}
	var names []string
	for _, a := range c.Archs {
		if a.APK() == arch {
			return nil
		}
		names = append(names, a.APK())
	}
	return fmt.Errorf("archs lists %s, not %s (the target platform's)", strings.Join(names, ", "), arch)
}

// CheckLayering refuses a layering the build does not follow: a strategy other than apko's
// "origin", or one the rule does not say as well (apk_layering = "origin" and
// apk_layer_budget = N: Starlark groups packages into layers at analysis time, before it
// can read the configuration), or a rule's origin layering the configuration lacks.
func (c *Config) CheckLayering(budget int, layering string) error {
	l := c.Layering
	if l == nil {
		if layering != "" {
			return fmt.Errorf("the rule's apk_layering is %q but the file has no layering: add layering: {strategy: %s, budget: %d}, or leave apk_layering out", layering, layering, budget)
		}
		return nil
	}
	if l.Strategy != "origin" {
		return fmt.Errorf("layering.strategy %q: only \"origin\" is known to apko", l.Strategy)
	}
	if layering != l.Strategy || l.Budget != budget {
		return fmt.Errorf("layering is {strategy: origin, budget: %d} but the rule has apk_layering = %q, apk_layer_budget = %d: set apk_layering = \"origin\" and apk_layer_budget = %d (Bazel groups layers before it can read apko.yaml)", l.Budget, layering, budget, l.Budget)
	}
	return nil
}

// ImageOptions is what the image config defaults depend on besides the configuration.
type ImageOptions struct {
	// Arch is the APK architecture built (checked against archs); Budget the rule's
	// apk_layer_budget and Layering its apk_layering (checked against layering).
	Arch     string
	Budget   int
	Layering string
	// UserFile holds accounts.run-as as resolved by apko-layer (a name becomes its uid);
	// needed when run-as is set.
	UserFile string
	// Created is the image's created time, which apko annotates.
	Created time.Time
}

// LoadImageDefaults loads the configuration at path, checks it against the build, and
// returns the image config defaults it gives (ImageDefaults), with the user run-as
// resolves to. Errors name the file.
func LoadImageDefaults(path string, o ImageOptions) (*oci.SpecFile, error) {
	cfg, err := Load(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.CheckArch(o.Arch); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := cfg.CheckLayering(o.Budget, o.Layering); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d, err := cfg.ImageDefaults(o.Created)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.Accounts.RunAs != "" {
		if o.UserFile == "" {
			return nil, fmt.Errorf("%s: accounts.run-as is set but no resolved user was given (--user, from apko-layer)", path)
		}
		b, err := os.ReadFile(o.UserFile)
		if err != nil {
			return nil, err
		}
		d.User = strings.TrimSpace(string(b))
	}
	return d, nil
}

// ImageDefaults is the image config apko builds from the configuration, as defaults under
// a rule's own values (oci.SpecFile.ApplyDefaults): entrypoint, cmd, work-dir,
// stop-signal, the environment over apko's DefaultEnv, the
// annotations with org.opencontainers.image.created (created), those annotations as
// labels too (apko makes the config's labels the manifest's annotations), and volumes.
// vcs-url contributes nothing: apko annotates only the index with it.
func (c *Config) ImageDefaults(created time.Time) (*oci.SpecFile, error) {
	d := &oci.SpecFile{WorkingDir: c.WorkDir, StopSignal: c.StopSignal}
	switch {
	case c.Entrypoint.ShellFragment != "":
		d.Entrypoint = &[]string{"/bin/sh", "-c", c.Entrypoint.ShellFragment}
	case c.Entrypoint.Command != "":
		ep, err := shlex.Split(c.Entrypoint.Command)
		if err != nil {
			return nil, fmt.Errorf("entrypoint.command: %w", err)
		}
		d.Entrypoint = &ep
	}
	if c.Cmd != "" {
		cmd, err := shlex.Split(c.Cmd)
		if err != nil {
			return nil, fmt.Errorf("cmd: %w", err)
		}
		d.Cmd = &cmd
	}
	d.Env = oci.MergeUnder(c.Environment, DefaultEnv)
	d.Annotations = map[string]string{}
	for k, v := range c.Annotations {
		d.Annotations[k] = v
	}
	// apko annotates the creation time (SOURCE_DATE_EPOCH); here it is the image's created.
	d.Annotations["org.opencontainers.image.created"] = created.UTC().Format(time.RFC3339)
	d.Labels = oci.MergeUnder(nil, d.Annotations)
	d.Volumes = append([]string(nil), c.Volumes...)
	return d, nil
}
