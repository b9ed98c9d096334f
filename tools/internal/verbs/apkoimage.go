package verbs

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/shlex"

	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
)

// apkoDefaultEnv is what apko sets when the configuration does not
// (pkg/build/oci/image.go).
var apkoDefaultEnv = map[string]string{
	"PATH":          "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin",
	"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
}

// applyApkoConfig fills the image spec from an apko configuration as apko builds its image
// config, with the rule's attributes taking precedence: entrypoint, cmd, user, workdir and
// stop signal from the configuration apply only when the attribute is empty; environment,
// annotations and labels are merged key by key, the attribute's value winning; volumes are
// the union; as in apko the config's labels are the manifest annotations (which include
// org.opencontainers.image.created, the image's created time). userFile holds accounts.run-as as resolved by apko-layer (a name becomes its
// uid). arch is the APK architecture built; budget the rule's apk_layer_budget.
func applyApkoConfig(sf *imageSpecFile, configPath, userFile, arch string, budget int) error {
	cfg, err := apkoconfig.Load(configPath)
	if err != nil {
		return err
	}
	if err := checkArch(cfg, configPath, arch); err != nil {
		return err
	}
	if l := cfg.Layering; l != nil {
		if l.Strategy != "origin" {
			return fmt.Errorf("%s: layering.strategy %q: only \"origin\" is known to apko", configPath, l.Strategy)
		}
		// Starlark cannot read the configuration at analysis time, where the packages are
		// grouped into layers: the rule's attribute must say the same.
		if l.Budget != budget {
			return fmt.Errorf("%s: layering.budget is %d but the rule's apk_layer_budget is %d: set apk_layer_budget = %d (Bazel groups layers before it can read apko.yaml)", configPath, l.Budget, budget, l.Budget)
		}
	}
	if sf.Entrypoint == nil {
		switch {
		case cfg.Entrypoint.ShellFragment != "":
			ep := []string{"/bin/sh", "-c", cfg.Entrypoint.ShellFragment}
			sf.Entrypoint = &ep
		case cfg.Entrypoint.Command != "":
			ep, err := shlex.Split(cfg.Entrypoint.Command)
			if err != nil {
				return fmt.Errorf("%s: entrypoint.command: %w", configPath, err)
			}
			sf.Entrypoint = &ep
		}
	}
	if sf.Cmd == nil && cfg.Cmd != "" {
		cmd, err := shlex.Split(cfg.Cmd)
		if err != nil {
			return fmt.Errorf("%s: cmd: %w", configPath, err)
		}
		sf.Cmd = &cmd
	}
	if sf.WorkingDir == "" {
		sf.WorkingDir = cfg.WorkDir
	}
	if sf.StopSignal == "" {
		sf.StopSignal = cfg.StopSignal
	}
	if sf.User == "" && cfg.Accounts.RunAs != "" {
		if userFile == "" {
			return fmt.Errorf("%s: accounts.run-as is set but no resolved user was given (--apko-user from apko-layer)", configPath)
		}
		b, err := os.ReadFile(userFile)
		if err != nil {
			return err
		}
		sf.User = strings.TrimSpace(string(b))
	}
	env := map[string]string{}
	for k, v := range apkoDefaultEnv {
		env[k] = v
	}
	for k, v := range cfg.Environment {
		env[k] = v
	}
	sf.Env = mergeUnder(sf.Env, env)
	annotations := map[string]string{}
	for k, v := range cfg.Annotations {
		annotations[k] = v
	}
	// vcs-url: apko annotates only the index with it (its per-image copy of the
	// configuration drops it), so an image gets nothing from it.
	// apko annotates the creation time (SOURCE_DATE_EPOCH); here it is the image's created.
	created := time.Unix(0, 0).UTC()
	if sf.Created != "" {
		if created, err = time.Parse(time.RFC3339, sf.Created); err != nil {
			return fmt.Errorf("spec: created: %w", err)
		}
	}
	annotations["org.opencontainers.image.created"] = created.UTC().Format(time.RFC3339)
	sf.Annotations = mergeUnder(sf.Annotations, annotations)
	// apko makes the config's labels the manifest's annotations.
	sf.Labels = mergeUnder(sf.Labels, sf.Annotations)
	vols := map[string]bool{}
	for _, v := range append(append([]string{}, sf.Volumes...), cfg.Volumes...) {
		vols[v] = true
	}
	sf.Volumes = sf.Volumes[:0]
	for v := range vols {
		sf.Volumes = append(sf.Volumes, v)
	}
	sort.Strings(sf.Volumes)
	return nil
}

// mergeUnder returns base's entries with over's on top.
func mergeUnder(over, base map[string]string) map[string]string {
	if len(base) == 0 {
		return over
	}
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
