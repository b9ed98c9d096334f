package gazelle

import (
	"path"
	"sort"
	"strings"

	bzl "github.com/bazelbuild/buildtools/build"

	"github.com/bazelbuild/bazel-gazelle/language"
	"github.com/bazelbuild/bazel-gazelle/rule"

	"github.com/rules-wharf/rules_wharf/tools/internal/locktidy"
)

const apkoConfig = "apko.yaml"

// The generated targets' names: NAME_layer ... for go_binary NAME; lock and image for an
// apko.yaml.
const (
	layerSuffix = "_layer"
	imageSuffix = "_image"
	indexSuffix = "_index"
	pushSuffix  = "_push"
	lockName    = "lock"
	apkoName    = "image"
)

// GenerateRules writes the directory's image targets, and empty rules for the generated
// targets whose go_binary or apko.yaml is gone.
func (l *wharfLang) GenerateRules(args language.GenerateArgs) language.GenerateResult {
	var res language.GenerateResult
	wc := getConfig(args.Config)
	if wc.image.off {
		return res
	}
	bins := binaries(args)
	for _, b := range bins {
		res.Gen = append(res.Gen, l.imageRules(args.Rel, b, wc.image)...)
	}
	files := map[string]bool{}
	for _, f := range args.RegularFiles {
		files[f] = true
	}
	res.Gen = append(res.Gen, apkoRules(args.Rel, files, wc)...)
	res.Empty = stale(args.File, bins, files)
	res.Imports = make([]interface{}, len(res.Gen))
	return res
}

// binaries are the names of the directory's go_binary rules after this run: those the Go
// extension generates and those in the BUILD file, less those it is deleting.
func binaries(args language.GenerateArgs) []string {
	names := map[string]bool{}
	for _, r := range args.OtherGen {
		if r.Kind() == "go_binary" {
			names[r.Name()] = true
		}
	}
	if args.File != nil {
		for _, r := range args.File.Rules {
			if r.Kind() == "go_binary" {
				names[r.Name()] = true
			}
		}
	}
	for _, r := range args.OtherEmpty {
		if r.Kind() == "go_binary" && !keptInFile(args.File, r.Name()) {
			delete(names, r.Name())
		}
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	return sorted
}

func keptInFile(f *rule.File, name string) bool {
	if f == nil {
		return false
	}
	for _, r := range f.Rules {
		if r.Name() == name && r.ShouldKeep() {
			return true
		}
	}
	return false
}

// imageRules are go_binary bin's layer, image, index and push.
func (l *wharfLang) imageRules(rel, bin string, ic imageConfig) []*rule.Rule {
	where := strings.ReplaceAll(ic.path, "{name}", bin)
	layer := rule.NewRule("oci_layer", bin+layerSuffix)
	layer.SetAttr("files", layerFiles{":" + bin: where})

	image := rule.NewRule("oci_image", bin+imageSuffix)
	setIf(image, "apks", ic.apks)
	setIf(image, "base", ic.base)
	image.SetAttr("entrypoint", []string{where})
	image.SetAttr("layers", []string{":" + bin + layerSuffix})
	setIf(image, "user", ic.user)

	index := rule.NewRule("oci_image_index", bin+indexSuffix)
	index.SetAttr("images", []string{":" + bin + imageSuffix})
	index.SetAttr("platforms", l.platforms(ic.platforms))

	push := rule.NewRule("oci_push", bin+pushSuffix)
	push.SetAttr("image", ":"+bin+indexSuffix)
	if ic.repository != "" {
		push.SetAttr("repository", repository(ic.repository, rel, bin))
	}
	if len(ic.tags) > 0 {
		push.SetAttr("remote_tags", ic.tags)
	}
	return []*rule.Rule{layer, image, index, push}
}

func setIf(r *rule.Rule, key, value string) {
	if value != "" {
		r.SetAttr(key, value)
	}
}

// platforms are labels; a bare name (linux_arm64) is rules_wharf's platform of that name.
func (l *wharfLang) platforms(names []string) []string {
	var labels []string
	for _, n := range names {
		if !strings.ContainsAny(n, ":/@") {
			n = "@" + l.wharfRepo + "//platforms:" + n
		}
		labels = append(labels, n)
	}
	return labels
}

// repository expands a repository template: {package} is the Bazel package (the binary's
// name at the root), {name} the binary's name, both lowercased as registries require.
func repository(template, rel, bin string) string {
	pkg := rel
	if pkg == "" {
		pkg = bin
	}
	r := strings.NewReplacer("{package}", strings.ToLower(pkg), "{name}", strings.ToLower(bin))
	return r.Replace(template)
}

// apkoRules are an apko.yaml's lock and, when its lock exists, its image from the lock's
// repository (the name MODULE.bazel gives it, or the one `wharf tidy` will add).
func apkoRules(rel string, files map[string]bool, wc *wharfConfig) []*rule.Rule {
	if !files[apkoConfig] {
		return nil
	}
	lock := rule.NewRule("apk_lock", lockName)
	lock.SetAttr("config", apkoConfig)
	lock.SetAttr("lock", locktidy.LockFile)
	if !files[locktidy.LockFile] {
		return []*rule.Rule{lock}
	}
	image := rule.NewRule("apko_image", apkoName)
	image.SetAttr("apks", "@"+locktidy.RepoFor(wc.repos, path.Join(rel, locktidy.LockFile)))
	image.SetAttr("config", apkoConfig)
	return []*rule.Rule{lock, image}
}

// layerFiles is oci_layer's files: gazelle merges dicts of lists only, so it replaces the
// whole dict; an empty one (in an empty rule) deletes it.
type layerFiles map[string]string

func (f layerFiles) BzlExpr() bzl.Expr { return rule.ExprFromValue(map[string]string(f)) }

func (f layerFiles) Merge(bzl.Expr) bzl.Expr {
	if len(f) == 0 {
		return nil
	}
	return f.BzlExpr()
}
