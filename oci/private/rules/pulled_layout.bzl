"""oci_pulled_layout: the files oci_pull downloaded, as one OCI layout directory."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("//oci/private/actions:layout.bzl", "emit_layout_files")
load("//oci/private/providers:oci_layout_origin_info.bzl", "OciLayoutOriginInfo")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _oci_pulled_layout_impl(ctx):
    if ctx.attr._require_verified_base[BuildSettingInfo].value and not ctx.attr.verified_by:
        fail("{}: image {} was pulled without verify, and --@rules_wharf//oci/settings:require_verified_base is set: give its oci.pull (or oci_pull) verify = [\"//keys:cosign.pub\"], the public key its cosign signature verifies with".format(ctx.label, ctx.attr.image))
    index = [f for f in ctx.files.srcs if f.basename == "index.json" and f.dirname.endswith("/layout")]
    if len(index) != 1:
        fail("{}: srcs must hold one layout/index.json".format(ctx.label))
    roots = [index[0].dirname]
    layers = ctx.files.layers
    if layers:
        # layout/blobs/sha256/<hex> of the layers repository.
        roots.append(layers[0].dirname.removesuffix("/blobs/sha256"))
    shallow = ctx.attr.shallow and not layers
    out = emit_layout_files(ctx, srcs = ctx.files.srcs + layers, roots = roots, shallow = shallow, image = ctx.attr.image)
    return [
        DefaultInfo(files = depset([out])),
        OciLayoutOriginInfo(repository = ctx.attr.repository, root = index[0].dirname, verified_by = ctx.attr.verified_by, shallow = shallow),
    ]

oci_pulled_layout = rule(
    implementation = _oci_pulled_layout_impl,
    doc = "Used by `oci_pull` repositories: their downloaded `layout/` files as one OCI layout directory (blobs hard-linked where possible), checked for completeness: without its layer blobs when `shallow` and `layers` is empty (the build did not ask for them). Fails under `--@rules_wharf//oci/settings:require_verified_base` when the image was pulled without `verify`.",
    attrs = {
        "srcs": attr.label_list(doc = "The files of `layout/`.", allow_files = True, mandatory = True),
        "image": attr.string(doc = "The pulled reference, for messages."),
        "repository": attr.string(doc = "The registry repository pulled from (registry host and path, no tag or digest), for pushes that mount or read its blobs."),
        "shallow": attr.bool(doc = "`srcs` hold the index, manifests and config only; the layer blobs are `layers`, when the build asks for them."),
        "layers": attr.label_list(doc = "The layer blobs (`layout/blobs/sha256/<hex>` of an `oci_pull_layers` repository), given under `--@rules_wharf//oci/settings:fetch_base_layers`.", allow_files = True),
        "verified_by": attr.string(doc = "The key that verified the image's cosign signature at fetch time; empty without verify."),
        "_require_verified_base": attr.label(default = Label("//oci/settings:require_verified_base")),
    },
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
