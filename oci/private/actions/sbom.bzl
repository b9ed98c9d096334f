"""emit_sbom and emit_index_sbom: the SPDX 2.3 documents of an image and of an index."""

load("//toolchain:actions.bzl", "wharf_action")

def _document_name(label):
    # Main-repository targets are named as users write them (`//pkg:name`).
    return "//{}:{}".format(label.package, label.name) if not label.workspace_name else str(label)

def emit_sbom(ctx, *, out, packages, distro):
    """Writes an image's SBOM: the packages the image contains.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      out: the declared `.spdx.json` file.
      packages: list of struct(facts, url), in install order: each package's facts file
        and where it comes from.
      distro: the distribution named in package URLs; empty: from the packages' os-release.
    """
    args = ctx.actions.args()
    args.add("--name", _document_name(ctx.label))
    if distro:
        args.add("--distro", distro)
    args.add_all([p.facts for p in packages], before_each = "--package")
    args.add_all([p.url for p in packages], before_each = "--url")
    args.add("--out", out)
    wharf_action(
        ctx,
        "sbom",
        args,
        inputs = [p.facts for p in packages],
        outputs = [out],
        mnemonic = "Sbom",
        progress_message = "Writing SBOM for %{label}",
        worker = True,
    )

def _image_arg(image):
    return image.descriptor.path + ("=" + image.sbom.path if image.sbom else "")

def emit_index_sbom(ctx, *, out, descriptor, images):
    """Writes an index's SBOM: the index, each platform's image and their packages.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      out: the declared `.spdx.json` file.
      descriptor: File, the index's descriptor.
      images: list of OciImageInfo, each with its own SBOM or none.
    """
    args = ctx.actions.args()
    args.add("--name", _document_name(ctx.label))
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
