package verbs

import (
	"fmt"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
)

// apkoImageConfigVerb writes the image config defaults an apko.yaml gives (image --defaults).
func apkoImageConfigVerb(args []string) error {
	o := apkoconfig.ImageOptions{Created: time.Unix(0, 0).UTC()}
	var configPath, created, out string
	fs := newFlags("apko-image-config")
	fs.StringVar(&configPath, "config", "", "apko.yaml")
	fs.StringVar(&o.Arch, "arch", "", "the APK architecture built (checked against archs)")
	fs.IntVar(&o.Budget, "apk-layer-budget", 0, "the rule's apk_layer_budget (checked against layering.budget)")
	fs.StringVar(&o.Layering, "apk-layering", "", "the rule's apk_layering (checked against layering.strategy)")
	fs.StringVar(&o.UserFile, "user", "", "the run-as user as resolved by apko-layer (its --user output); needed when accounts.run-as is set")
	fs.StringVar(&created, "created", "", "the image's created time, RFC 3339 (default 1970-01-01), annotated as apko does")
	fs.StringVar(&out, "out", "", "output: image config defaults JSON (image --defaults)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("config", configPath, "arch", o.Arch, "out", out); err != nil {
		return err
	}
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			return fmt.Errorf("--created: %w", err)
		}
		o.Created = t
	}
	d, err := apkoconfig.LoadImageDefaults(configPath, o)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(out, d.Marshal())
}
