package gazelle

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/rule"

	"github.com/rules-wharf/rules_wharf/tools/internal/locktidy"
)

// directive is the one directive this extension reads:
//
//	# gazelle:wharf_image apks=@base platforms=linux_amd64,linux_arm64
//	# gazelle:wharf_image repository=registry.example.com/{package} tags=latest
//	# gazelle:wharf_image off
//
// Each key=value sets one setting for the directory and those below it (until a BUILD file
// below sets it again); a key with an empty value clears it.
const directive = "wharf_image"

// imageConfig is the wharf_image settings of one directory.
type imageConfig struct {
	off        bool
	apks       string   // oci_image's apks: a lock's repository, e.g. @base
	base       string   // oci_image's base: an image (oci.pull, oci_image, a layout)
	platforms  []string // oci_image_index's platforms
	repository string   // oci_push's repository template: {package}, {name}
	tags       []string // oci_push's remote_tags
	path       string   // where the binary goes in the layer: {name}
	user       string   // oci_image's user
}

// wharfConfig is this extension's part of gazelle's configuration (config.Exts[languageName]).
type wharfConfig struct {
	image imageConfig
	repos map[string]string // lock path → repository name, from MODULE.bazel
}

// keys are the directive's keys; each sets its setting from the value.
var keys = map[string]func(ic *imageConfig, v string) error{
	"apks":       func(ic *imageConfig, v string) error { ic.apks = v; return nil },
	"base":       func(ic *imageConfig, v string) error { ic.base = v; return nil },
	"platforms":  func(ic *imageConfig, v string) error { ic.platforms = list(v); return nil },
	"repository": func(ic *imageConfig, v string) error { ic.repository = v; return nil },
	"tags":       func(ic *imageConfig, v string) error { ic.tags = list(v); return nil },
	"user":       func(ic *imageConfig, v string) error { ic.user = v; return nil },
	"path": func(ic *imageConfig, v string) error {
		if !strings.HasPrefix(v, "/") {
			return fmt.Errorf("path must be absolute, got %q", v)
		}
		ic.path = v
		return nil
	},
}

func list(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

func keyNames() string {
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// parse applies one directive's value ("off", "on", or key=value words) to ic.
func (ic *imageConfig) parse(value string) error {
	for _, w := range strings.Fields(value) {
		if w == "off" || w == "on" {
			ic.off = w == "off"
			continue
		}
		k, v, ok := strings.Cut(w, "=")
		set, known := keys[k]
		if !ok || !known {
			return fmt.Errorf("%q is not off, on or KEY=VALUE with a KEY of %s", w, keyNames())
		}
		if err := set(ic, v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

func (*wharfLang) RegisterFlags(*flag.FlagSet, string, *config.Config) {}

func (*wharfLang) CheckFlags(*flag.FlagSet, *config.Config) error { return nil }

func (*wharfLang) KnownDirectives() []string { return []string{directive} }

// Configure copies the parent directory's settings and applies this BUILD file's
// directives; at the root it starts from the defaults and MODULE.bazel's lock repositories.
func (l *wharfLang) Configure(c *config.Config, rel string, f *rule.File) {
	wc, ok := c.Exts[languageName].(*wharfConfig)
	if ok {
		copied := *wc
		wc = &copied
	} else {
		wc = l.rootConfig(c)
	}
	c.Exts[languageName] = wc
	if f == nil {
		return
	}
	for _, d := range f.Directives {
		if d.Key != directive {
			continue
		}
		ic := wc.image
		if err := ic.parse(d.Value); err != nil {
			log.Printf("%s: # gazelle:%s %s: %v (the directive is ignored)", f.Path, directive, d.Value, err)
			continue
		}
		wc.image = ic
	}
}

// rootConfig is the configuration at the repository root: default platforms, and the
// repository names MODULE.bazel's apk.translate_lock entries give the locks.
func (l *wharfLang) rootConfig(c *config.Config) *wharfConfig {
	wharf := "rules_wharf"
	if c.ModuleToApparentName != nil {
		if n := c.ModuleToApparentName("rules_wharf"); n != "" {
			wharf = n
		}
	}
	l.wharfRepo = wharf
	wc := &wharfConfig{
		image: imageConfig{
			platforms: []string{"@" + wharf + "//platforms:linux_amd64", "@" + wharf + "//platforms:linux_arm64"},
			path:      "/usr/bin/{name}",
		},
		repos: map[string]string{},
	}
	p := filepath.Join(c.RepoRoot, "MODULE.bazel")
	data, err := os.ReadFile(p)
	if err != nil {
		return wc // no MODULE.bazel: every lock gets its default repository name
	}
	repos, err := locktidy.Repos(p, data)
	if err != nil {
		log.Printf("%v (apko_image targets get default repository names)", err)
		return wc
	}
	wc.repos = repos
	return wc
}

func getConfig(c *config.Config) *wharfConfig { return c.Exts[languageName].(*wharfConfig) }
