package gazelle

import (
	"strings"

	bzl "github.com/bazelbuild/buildtools/build"

	"github.com/bazelbuild/bazel-gazelle/rule"

	"github.com/rules-wharf/rules_wharf/tools/internal/locktidy"
)

// stale are empty rules for the BUILD file's generated targets whose source is gone: the
// NAME_layer, _image, _index and _push of a go_binary NAME that is gone, and an apko.yaml's
// lock and image when the file (or, for the image, its lock) is gone. Gazelle's merger
// then deletes each that has no `# keep`.
func stale(f *rule.File, bins []string, files map[string]bool) []*rule.Rule {
	if f == nil {
		return nil
	}
	gone := goneBinaries(f, bins, files)
	var empty []*rule.Rule
	for _, r := range f.Rules {
		if goneImage(r, gone) || goneApko(r, files) {
			e := rule.NewRule(r.Kind(), r.Name())
			if r.Kind() == "oci_layer" {
				e.SetAttr("files", layerFiles(nil))
			}
			empty = append(empty, e)
		}
	}
	return empty
}

// goneBinaries are the NAMEs whose NAME_layer puts :NAME in the layer as gazelle writes it,
// where NAME is no go_binary now, nor any other target of the file or file of the
// directory: the evidence that the four targets were generated for a binary that is gone.
// The other three count as generated only when linked to it as gazelle links them
// (NAME_image's layers has :NAME_layer, ...), so hand-written targets stay.
func goneBinaries(f *rule.File, bins []string, files map[string]bool) map[string]bool {
	taken := map[string]bool{}
	for _, b := range bins {
		taken[b] = true
	}
	for _, r := range f.Rules {
		if r.Kind() != "go_binary" {
			taken[r.Name()] = true
		}
	}
	gone := map[string]bool{}
	for _, r := range f.Rules {
		bin, ok := strings.CutSuffix(r.Name(), layerSuffix)
		if r.Kind() == "oci_layer" && ok && bin != "" && !taken[bin] && !files[bin] && refers(r.Attr("files"), ":"+bin) {
			gone[bin] = true
		}
	}
	return gone
}

// goneImage: r is one of the four targets of a gone go_binary.
func goneImage(r *rule.Rule, gone map[string]bool) bool {
	var suffix, attr, link string
	switch r.Kind() {
	case "oci_layer":
		suffix = layerSuffix
	case "oci_image":
		suffix, attr, link = imageSuffix, "layers", layerSuffix
	case "oci_image_index":
		suffix, attr, link = indexSuffix, "images", imageSuffix
	case "oci_push":
		suffix, attr, link = pushSuffix, "image", indexSuffix
	default:
		return false
	}
	bin, ok := strings.CutSuffix(r.Name(), suffix)
	if !ok || !gone[bin] {
		return false
	}
	return attr == "" || refers(r.Attr(attr), ":"+bin+link)
}

// goneApko: r is an apko.yaml's lock or image, and the file it needs is gone.
func goneApko(r *rule.Rule, files map[string]bool) bool {
	if r.AttrString("config") != apkoConfig {
		return false
	}
	switch {
	case r.Kind() == "apk_lock" && r.Name() == lockName:
		return !files[apkoConfig]
	case r.Kind() == "apko_image" && r.Name() == apkoName:
		return !files[apkoConfig] || !files[locktidy.LockFile]
	}
	return false
}

// refers reports whether e is the string want, a list holding it, or a dict with it as a key.
func refers(e bzl.Expr, want string) bool {
	switch x := e.(type) {
	case *bzl.StringExpr:
		return x.Value == want
	case *bzl.ListExpr:
		for _, el := range x.List {
			if refers(el, want) {
				return true
			}
		}
	case *bzl.DictExpr:
		for _, kv := range x.List {
			if refers(kv.Key, want) {
				return true
			}
		}
	}
	return false
}
