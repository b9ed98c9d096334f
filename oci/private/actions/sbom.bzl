"""emit_index_sbom: the SPDX 2.3 document of an index (an image's own comes with its contents:
apk/private/actions/sbom.bzl)."""

load("//toolchain:actions.bzl", "wharf_action")
load(":labels.bzl", "label_text")

def _image_arg(image):
    return image.descriptor.path + ("=" + image.sbom.path if image.sbom else "")

def emit_index_sbom(ctx, *, descriptor, images):
    """Writes `<name>.spdx.json`: the index, each platform's image and their packages.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      descriptor: File, the index's descriptor.
      images: list of OciImageInfo, each with its own SBOM or none.

    Returns:
      File: the document.
    """
    out = ctx.actions.declare_file(ctx.label.name + ".spdx.json")
    args = ctx.actions.args()
    args.add("--name", label_text(ctx.label))
    args.add("--purl-name", ctx.label.name)
    args.add("--index-descriptor", descriptor)
    args.add_all(images, map_each = _image_arg, before_each = "--image")
    args.add("--out", out)
    wharf_action(
        ctx,
        "sbom-index",
        args,
        inputs = [descriptor] + [i.descriptor for i in images] + [i.sbom for i in images if i.sbom],
        outputs = [out],
        mnemonic = "SbomIndex",
        progress_message = "Writing index SBOM for %{label}",
        worker = True,
    )
    return out
