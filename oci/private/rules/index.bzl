"""oci_image_index: one image definition built for several platforms."""

load("//oci/private/actions:attest.bzl", "emit_provenance", "emit_sbom_statements")
load("//oci/private/actions:index.bzl", "emit_index")
load("//oci/private/actions:layout.bzl", "emit_layout")
load("//oci/private/actions:sbom.bzl", "emit_index_sbom")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_index_info.bzl", "OciIndexInfo")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")
load(":stamp.bzl", "STAMP_ATTRS", "should_stamp", "stamp_status")

def _platforms_transition_impl(settings, attr):
    if not attr.platforms:
        return {"host": {"//command_line_option:platforms": settings["//command_line_option:platforms"]}}
    return {
        str(p): {"//command_line_option:platforms": [str(p)]}
        for p in attr.platforms
    }

_platforms_transition = transition(
    implementation = _platforms_transition_impl,
    inputs = ["//command_line_option:platforms"],
    outputs = ["//command_line_option:platforms"],
)

def _unique(items, key):
    """items, each key once (the first): every platform's image names the same lock."""
    seen = {}
    for i in items:
        seen.setdefault(key(i), i)
    return seen.values()

def _attestations(ctx, descriptor, sbom, images):
    """The index's unsigned statements: its SBOMs' and a provenance about it and its images."""
    statements = emit_sbom_statements(ctx, descriptor = descriptor, sbom = sbom)
    provenance = emit_provenance(
        ctx,
        descriptors = [descriptor] + [i.descriptor for i in images],
        manifests = [i.manifest for i in images],
        layers = [layer for i in images for layer in i.layers],
        locks = _unique([lock for i in images for lock in i.attestations.locks], lambda lock: lock.file.path),
        bases = _unique([b for i in images for b in i.attestations.bases], lambda b: b.descriptor.path),
        status = [ctx.version_file, ctx.info_file] if should_stamp(ctx) else [],
    )
    return struct(spdx = statements.spdx, cyclonedx = statements.cyclonedx, provenance = provenance)

def _oci_image_index_impl(ctx):
    images = [t[OciImageInfo] for t in ctx.attr.images]
    out = emit_index(
        ctx,
        descriptors = [i.descriptor for i in images],
        annotations = ctx.attr.annotations,
        annotations_files = ctx.files.annotations_file,
        status = stamp_status(ctx, ctx.attr.annotations.values(), ctx.files.annotations_file),
    )
    layout = emit_layout(
        ctx,
        descriptor = out.descriptor,
        blobs = [out.index] + [f for i in images for f in [i.manifest, i.config]],
        layers = [layer for i in images for layer in i.layers],
        extern_layers = [e for i in images for e in i.extern_layers],
        ref_name = ctx.attr.ref_name,
    )
    sbom = emit_index_sbom(ctx, descriptor = out.descriptor, images = images)
    attestations = _attestations(ctx, out.descriptor, sbom, images)
    return [
        # Not the layout (every blob again, as a tree artifact): output group `layout`.
        DefaultInfo(files = depset([out.index, out.digest])),
        OciIndexInfo(index = out.index, descriptor = out.descriptor, digest = out.digest, layout = layout, images = images, sbom = sbom.spdx, attestations = attestations),
        OutputGroupInfo(
            layout = depset([layout]),
            digest = depset([out.digest]),
            # The index's document (every platform's packages) first, then each image's own.
            sbom = depset([sbom.spdx] + [i.sbom for i in images if i.sbom]),
            # The index's document as CycloneDX (each image's own: the image's output group).
            sbom_cyclonedx = depset([sbom.cyclonedx]),
            # Each platform's image's files document (`oci_image`'s output group `files`).
            files = depset(transitive = [t[OutputGroupInfo].files for t in ctx.attr.images if OutputGroupInfo in t and hasattr(t[OutputGroupInfo], "files")]),
            # The index's statements, then each image's.
            attestations = depset([attestations.spdx, attestations.cyclonedx, attestations.provenance] + [
                f
                for i in images
                for f in [i.attestations.spdx, i.attestations.cyclonedx, i.attestations.provenance]
                if f
            ]),
        ),
    ]

_DOC = """A multi-platform image: each of `images` built for each of `platforms` (a split
transition), tied together by an OCI image index. One lock supplies every architecture's
packages (`apks = "@base"` selects by target CPU). Its OCI layout's index.json has one entry,
the index, annotated `org.opencontainers.image.ref.name`.
Output group `sbom`: `<name>.spdx.json`, an SPDX 2.3 document for the index (the index and each
platform's image as packages named by digest with `pkg:oci` URLs, the index `VARIANT_OF` each
image, each image `CONTAINS` its APK packages and the layers a rule wrote, with their files,
Go binaries and modules), plus each image's own document; `sbom_cyclonedx`: the index's
document as CycloneDX 1.6, `<name>.cdx.json` (see docs/sbom.md).

Default outputs: `<name>.index.json` and `<name>.digest`; the OCI layout directory `<name>/`
is the output group `layout` (`--output_groups=+layout`), which `oci_push` builds itself.

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_image_index", "oci_push")

oci_image(
    name = "image",
    apks = "@base",  # each platform gets its architecture's packages
    layers = [":app_layer"],
)

oci_image_index(
    name = "multiarch",
    images = [":image"],
    platforms = [
        "@rules_wharf//platforms:linux_amd64",
        "@rules_wharf//platforms:linux_arm64",
    ],
)

oci_push(
    name = "push",
    image = ":multiarch",
    repository = "registry.example.com/app",
    remote_tags = ["latest"],
)
```
"""

oci_image_index = rule(
    implementation = _oci_image_index_impl,
    doc = _DOC,
    attrs = {
        "images": attr.label_list(
            doc = "Images (`oci_image`) to build for every platform.",
            providers = [OciImageInfo],
            mandatory = True,
            cfg = _platforms_transition,
        ),
        "platforms": attr.label_list(
            doc = "Target platforms, e.g. `@rules_wharf//platforms:linux_amd64` and `:linux_arm64`. Empty: the current target platform only.",
        ),
        "annotations": attr.string_dict(doc = "Index annotations. When stamping (`--stamp` or `stamp = 1`), `{KEY}` in a value is the key's workspace status value, as for `oci_image_rule`'s; without, it stays as written."),
        "annotations_file": attr.label(doc = "A file of `KEY=VALUE` annotations, one a line, under `annotations`; stamped the same way.", allow_single_file = True),
        "ref_name": attr.string(doc = "The `org.opencontainers.image.ref.name` of the index in the layout's index.json.", default = "latest"),
        "_allowlist_function_transition": attr.label(default = "@bazel_tools//tools/allowlists/function_transition_allowlist"),
    } | STAMP_ATTRS,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
