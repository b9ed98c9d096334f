// Package gazelle is rules_wharf's gazelle extension: it writes and keeps up to date the
// image targets of a tree. For every go_binary (gazelle's own Go extension's, or written
// by hand) it generates NAME_layer (oci_layer), NAME_image (oci_image), NAME_index
// (oci_image_index) and NAME_push (oci_push); for every apko.yaml, lock (apk_lock) and,
// once its apko.lock.json exists, image (apko_image). Settings come from the
// `# gazelle:wharf_image` directive (config.go), per directory and inherited.
//
// Use it after the Go extension, which must generate the go_binary rules first:
//
//	gazelle_binary(
//	    name = "gazelle_bin",
//	    languages = ["@gazelle//language/go", "@rules_wharf_tools//gazelle"],
//	)
//
// Generated attributes are gazelle's to rewrite on every run; a `# keep` comment on an
// attribute or a rule keeps a hand edit, and attributes it does not generate (env, labels,
// ...) are never touched. Targets whose go_binary or apko.yaml is gone are removed.
package gazelle

import (
	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/language"
	"github.com/bazelbuild/bazel-gazelle/repo"
	"github.com/bazelbuild/bazel-gazelle/resolve"
	"github.com/bazelbuild/bazel-gazelle/rule"
)

const languageName = "wharf"

type wharfLang struct {
	wharfRepo string // rules_wharf's apparent repository name, set at the root
}

// NewLanguage is the extension, for gazelle_binary.
func NewLanguage() language.Language { return &wharfLang{wharfRepo: "rules_wharf"} }

func (*wharfLang) Name() string { return languageName }

// kinds: what each generated attribute is to gazelle's merger. Mergeable attributes are
// rewritten from the generated rule (kept with # keep); NonEmptyAttrs keep a rule whose
// source is gone from being deleted while a hand-kept attribute remains.
var kinds = map[string]rule.KindInfo{
	"oci_layer": {
		NonEmptyAttrs:  set("files"),
		MergeableAttrs: set("files"),
	},
	"oci_image": {
		NonEmptyAttrs:  set("layers", "entrypoint"),
		MergeableAttrs: set("apks", "base", "entrypoint", "layers", "user"),
	},
	"oci_image_index": {
		NonEmptyAttrs:  set("images"),
		MergeableAttrs: set("images", "platforms"),
	},
	"oci_push": {
		NonEmptyAttrs:  set("image"),
		MergeableAttrs: set("image", "remote_tags", "repository"),
	},
	"apk_lock": {
		NonEmptyAttrs:  set("config"),
		MergeableAttrs: set("config", "lock"),
	},
	"apko_image": {
		NonEmptyAttrs:  set("config"),
		MergeableAttrs: set("apks", "config"),
	},
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func (*wharfLang) Kinds() map[string]rule.KindInfo { return kinds }

// ApparentLoads loads the rules as users write them, under the name the module gives
// rules_wharf.
func (*wharfLang) ApparentLoads(moduleToApparentName func(string) string) []rule.LoadInfo {
	name := moduleToApparentName("rules_wharf")
	if name == "" {
		name = "rules_wharf"
	}
	return loads(name)
}

func (*wharfLang) Loads() []rule.LoadInfo { return loads("rules_wharf") }

func loads(repo string) []rule.LoadInfo {
	return []rule.LoadInfo{
		{Name: "@" + repo + "//oci:defs.bzl", Symbols: []string{"apko_image", "oci_image", "oci_image_index", "oci_layer", "oci_push"}},
		{Name: "@" + repo + "//apk:defs.bzl", Symbols: []string{"apk_lock"}},
	}
}

func (*wharfLang) Fix(*config.Config, *rule.File) {}

// The generated rules refer to each other by label and import nothing: no resolution.

func (*wharfLang) Imports(*config.Config, *rule.Rule, *rule.File) []resolve.ImportSpec { return nil }

func (*wharfLang) Embeds(*rule.Rule, label.Label) []label.Label { return nil }

func (*wharfLang) Resolve(*config.Config, *resolve.RuleIndex, *repo.RemoteCache, *rule.Rule, interface{}, label.Label) {
}
