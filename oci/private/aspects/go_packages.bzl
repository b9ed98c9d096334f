"""go_packages_aspect: the Go packages a target in an oci_layer links (OciGoPackagesInfo)."""

load("//oci/private/actions:labels.bzl", "label_text")
load("//oci/private/providers:oci_go_packages_info.bzl", "OciGoPackagesInfo")

_ATTRS = ["deps", "embed"]

def _linked(ctx):
    """The OciGoPackagesInfo of the targets in the rule's deps and embed."""
    out = []
    for name in _ATTRS:
        value = getattr(ctx.rule.attr, name, None)
        if type(value) != "list":
            continue
        out.extend([t[OciGoPackagesInfo] for t in value if OciGoPackagesInfo in t])
    return out

def _go_packages_aspect_impl(target, ctx):
    # rules_go's rules are recognized by kind and attributes: loading its providers would make
    # every user of rules_wharf fetch rules_go.
    kind = ctx.rule.kind
    if not kind.startswith("go_"):
        return []
    linked = _linked(ctx)
    importpath = getattr(ctx.rule.attr, "importpath", "") or ""
    direct = ["{}\t{}".format(importpath, label_text(target.label))] if importpath else []
    main = importpath
    if kind == "go_binary" and not importpath:
        embedded = [e[OciGoPackagesInfo] for e in getattr(ctx.rule.attr, "embed", []) if OciGoPackagesInfo in e]
        main = embedded[0].main if embedded else ""
    return [OciGoPackagesInfo(
        is_binary = kind == "go_binary",
        main = main,
        packages = depset(direct, transitive = [i.packages for i in linked]),
    )]

go_packages_aspect = aspect(
    implementation = _go_packages_aspect_impl,
    doc = "Collects the import paths (and labels) of the Go packages a rules_go target links, through `deps` and `embed`.",
    attr_aspects = _ATTRS,
)
