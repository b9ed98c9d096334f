"""apk_image_contents: a lock's packages (and an apko.yaml) as contents of an `oci_image`."""

load("//apk/private/actions:contents.bzl", "emit_apk_contents")
load("//apk/private/providers:apk_packages_info.bzl", "ApkPackagesInfo")
load("//platforms:platforms.bzl", "TARGET_PLATFORM_ATTRS", "target_platform")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _apk_image_contents_impl(ctx):
    return [emit_apk_contents(
        ctx,
        ctx.attr.apks,
        platform = target_platform(ctx),
        layer_budget = ctx.attr.apk_layer_budget,
        layering = ctx.attr.apk_layering,
        config = ctx.file.apko_config,
        config_files = ctx.files.apko_config_includes,
        created = ctx.attr.created,
    )]

_DOC = """The contents an image takes from a lock (`OciImageContentsInfo`, for `oci_image`'s
`contents`): each package's data member as a layer in lock order (or contiguous runs within
`apk_layer_budget`), the apk database layer, and with `apko_config` a layer of its accounts
and paths plus its image config as defaults under the image's attributes; the packages for
the image's SBOM; the packages' signature verification records. `oci_image(apks = ...)` and
`apko_image` make the same contents through the lock's hub target (`OciImageContentsSourceInfo`,
which runs this rule's emitter); the packages must be for the target platform's architecture.

```starlark
load("@rules_wharf//apk:defs.bzl", "apk_image_contents")
load("@rules_wharf//oci:defs.bzl", "oci_image")

# The same image as oci_image(apks = "@base", apk_layer_budget = 8, apko_config = "apko.yaml").
apk_image_contents(
    name = "packages",
    apks = "@base",
    apk_layer_budget = 8,
    apko_config = "apko.yaml",
)

oci_image(
    name = "image",
    contents = [":packages"],
    layers = [":app_layer"],
)
```
"""

apk_image_contents = rule(
    implementation = _apk_image_contents_impl,
    doc = _DOC,
    attrs = {
        "apks": attr.label(
            doc = "Packages from a lock: the hub repository of `apk.translate_lock` (e.g. `@base`, which selects the target CPU's packages) or one of its per-architecture targets.",
            mandatory = True,
            providers = [ApkPackagesInfo],
        ),
        "apk_layer_budget": attr.int(
            doc = "Most layers the packages may take, the apk database layer included; 0: one layer per package. See `oci_image`.",
            default = 0,
        ),
        "apk_layering": attr.string(
            doc = "`\"origin\"`: the packages grouped as apko's `layering: {strategy: origin, budget: apk_layer_budget}` groups them. See `oci_image`.",
            values = ["", "origin"],
        ),
        "apko_config": attr.label(
            doc = "An apko image configuration (`apko.yaml`) whose accounts, paths and image config apply. See `oci_image`.",
            allow_single_file = [".yaml", ".yml"],
        ),
        "apko_config_includes": attr.label_list(
            doc = "The files `apko_config` includes (`include:`), which its actions read. See `oci_image`.",
            allow_files = [".yaml", ".yml"],
        ),
        "created": attr.string(doc = "The image's `created` time (RFC 3339; empty: 1970-01-01T00:00:00Z), which apko annotates with `apko_config`."),
    } | TARGET_PLATFORM_ATTRS,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
