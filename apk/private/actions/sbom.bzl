"""emit_sbom: an image's SPDX 2.3 document, listing the APK packages of its contents."""

load("//oci:actions.bzl", "label_text")
load("//toolchain:actions.bzl", "wharf_action")

def emit_sbom(ctx, parts):
    """Writes `<name>.spdx.json` for the image rule of `ctx` (OciImageContentsInfo's `sbom.emit`).

    Args:
      ctx: the image rule's context (needs the wharf toolchain).
      parts: list of struct(packages, distro), the `sbom` of each of the image's contents
        with one, in order: `packages` list of ApkPackageInfo (facts and url), in install
        order; `distro` the distribution named in package URLs (empty: from the packages'
        os-release). The first distro given wins.

    Returns:
      File: the document.
    """
    out = ctx.actions.declare_file(ctx.label.name + ".spdx.json")
    packages = [pkg for p in parts for pkg in p.packages]
    distros = [p.distro for p in parts if p.distro]
    args = ctx.actions.args()
    args.add("--name", label_text(ctx.label))
    if distros:
        args.add("--distro", distros[0])
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
    return out
