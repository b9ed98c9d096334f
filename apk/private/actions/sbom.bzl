"""emit_sbom: an image's SBOM, listing the APK packages of its contents and its layers' parts."""

load("//oci:actions.bzl", "emit_image_sbom", "label_text")

def emit_sbom(ctx, parts, layers):
    """Writes `<name>.spdx.json` and `<name>.cdx.json` for the image rule of `ctx` (OciImageContentsInfo's `sbom.emit`).

    Args:
      ctx: the image rule's context (needs the wharf toolchain).
      parts: list of struct(packages, distro), the `sbom` of each of the image's contents
        with one, in order: `packages` list of ApkPackageInfo (facts and url), in install
        order; `distro` the distribution named in package URLs (empty: from the packages'
        os-release). The first distro given wins.
      layers: list of OciLayerInfo, the image's layers: those with an SBOM part (files a
        rule put in, Go binaries) are listed too.

    Returns:
      struct(spdx = File, cyclonedx = File).
    """
    packages = [pkg for p in parts for pkg in p.packages]
    distros = [p.distro for p in parts if p.distro]
    args = ctx.actions.args()
    args.add("--name", label_text(ctx.label))
    if distros:
        args.add("--distro", distros[0])
    args.add_all([p.facts for p in packages], before_each = "--package")
    args.add_all([p.url for p in packages], before_each = "--url")
    return emit_image_sbom(ctx, layers = layers, args = args, inputs = [p.facts for p in packages])
