"""oci_image_contents: an image's contents made by a source for the image (no APK knowledge)."""

load("//oci/private/providers:oci_image_contents_source_info.bzl", "OciImageContentsSourceInfo")
load("//platforms:platforms.bzl", "TARGET_PLATFORM_ATTRS", "target_platform")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _oci_image_contents_impl(ctx):
    source = ctx.attr.source
    return [source[OciImageContentsSourceInfo].emit(
        ctx,
        source,
        platform = target_platform(ctx),
        layer_budget = ctx.attr.layer_budget,
        layering = ctx.attr.layering,
        config = ctx.file.config,
        config_files = ctx.files.config_files,
        created = ctx.attr.created,
    )]

oci_image_contents = rule(
    implementation = _oci_image_contents_impl,
    doc = """The contents (`OciImageContentsInfo`) that `source` makes for an image of the target
platform, within `layer_budget` and with `config`. `oci_image(apks = ...)` makes one, named
`<name>_apk_contents`; the source's rule set (e.g. apk/) supplies the actions.""",
    attrs = {
        "source": attr.label(doc = "A target providing `OciImageContentsSourceInfo` (e.g. a lock's hub repository).", mandatory = True, providers = [OciImageContentsSourceInfo]),
        "layer_budget": attr.int(doc = "Most layers the contents may take; 0: no limit."),
        "layering": attr.string(doc = "How the source groups its layers within `layer_budget` (apk: `\"origin\"`, or empty)."),
        "config": attr.label(doc = "A configuration file the source reads (e.g. an apko.yaml).", allow_single_file = True),
        "config_files": attr.label_list(doc = "Files `config` names that the source reads too (an apko.yaml's includes).", allow_files = True),
        "created": attr.string(doc = "The image's `created` time (RFC 3339; empty: 1970-01-01T00:00:00Z)."),
    } | TARGET_PLATFORM_ATTRS,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
