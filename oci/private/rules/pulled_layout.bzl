"""oci_pulled_layout: the files oci_pull downloaded, as one OCI layout directory."""

load("//oci/private/actions:layout.bzl", "emit_layout_files")
load("//oci/private/providers:oci_layout_origin_info.bzl", "OciLayoutOriginInfo")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _oci_pulled_layout_impl(ctx):
    index = [f for f in ctx.files.srcs if f.basename == "index.json" and f.dirname.endswith("/layout")]
    if len(index) != 1:
        fail("{}: srcs must hold one layout/index.json".format(ctx.label))
    out = emit_layout_files(ctx, srcs = ctx.files.srcs, root = index[0].dirname, image = ctx.attr.image)
    return [
        DefaultInfo(files = depset([out])),
        OciLayoutOriginInfo(repository = ctx.attr.repository, root = index[0].dirname),
    ]

oci_pulled_layout = rule(
    implementation = _oci_pulled_layout_impl,
    doc = "Used by `oci_pull` repositories: their downloaded `layout/` files as one OCI layout directory (blobs hard-linked where possible), checked for completeness.",
    attrs = {
        "srcs": attr.label_list(doc = "The files of `layout/`.", allow_files = True, mandatory = True),
        "image": attr.string(doc = "The pulled reference, for messages."),
        "repository": attr.string(doc = "The registry repository pulled from (registry host and path, no tag or digest), for pushes that mount or read its blobs."),
    },
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
