"""Attestation emitters: unsigned in-toto statements about an image or index (`attest-sbom`,
`provenance`), which `oci_push` signs and attaches at `bazel run` time. No key is read here."""

load("//toolchain:actions.bzl", "wharf_action")
load(":labels.bzl", "label_text")

def emit_sbom_statements(ctx, *, descriptor, sbom):
    """Writes `<name>.spdx.intoto.json` and `<name>.cdx.intoto.json`: the SBOMs as in-toto statements.

    The subject is the manifest (or index) digest, read from `descriptor`.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      descriptor: File, the image's or index's descriptor.
      sbom: struct(spdx = File, cyclonedx = File or None), the SBOM documents.

    Returns:
      struct(spdx = File, cyclonedx = File or None).
    """
    spdx = ctx.actions.declare_file(ctx.label.name + ".spdx.intoto.json")
    cyclonedx = ctx.actions.declare_file(ctx.label.name + ".cdx.intoto.json") if sbom.cyclonedx else None
    args = ctx.actions.args()
    args.add("--name", label_text(ctx.label))
    args.add("--subject", descriptor)
    args.add("--spdx", sbom.spdx)
    args.add("--spdx-out", spdx)
    if cyclonedx:
        args.add("--cyclonedx", sbom.cyclonedx)
        args.add("--cyclonedx-out", cyclonedx)
    wharf_action(
        ctx,
        "attest-sbom",
        args,
        inputs = [descriptor, sbom.spdx] + ([sbom.cyclonedx] if cyclonedx else []),
        outputs = [spdx] + ([cyclonedx] if cyclonedx else []),
        mnemonic = "AttestSbom",
        progress_message = "Writing the SBOM statements of %{label}",
        worker = True,
    )
    return struct(spdx = spdx, cyclonedx = cyclonedx)

def _layer_label(layer):
    return "{}={}".format(layer.metadata.path, layer.label)

def _lock_arg(lock):
    return "{}={}".format(lock.file.path, lock.name)

def _base_arg(base):
    return "{}={}".format(base.descriptor.path, base.name)

def emit_provenance(ctx, *, descriptors, manifests, layers, locks, bases, status):
    """Writes `<name>.provenance.intoto.json`: SLSA provenance v1 as an in-toto statement.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      descriptors: list of File: the subjects (an index's first, then its images').
      manifests: list of File: image manifests whose layers are listed by digest.
      layers: list of OciLayerInfo: their layers the build made, named by `label`.
      locks: list of struct(name, file): lock files, recorded by sha256.
      bases: list of struct(name, descriptor): base images, by digest.
      status: list of File: the workspace status when stamping (source revision, build
        label and time), else empty: unstamped, the statement is the same on every build.

    Returns:
      File.
    """
    out = ctx.actions.declare_file(ctx.label.name + ".provenance.intoto.json")

    # A layer another rule set made without a label is listed by digest alone.
    layers = [layer for layer in layers if getattr(layer, "label", "")]
    args = ctx.actions.args()
    args.add("--name", label_text(ctx.label))
    args.add("--target", label_text(ctx.label))
    args.add_all(descriptors, before_each = "--subject")
    args.add_all(manifests, before_each = "--manifest")
    args.add_all(layers, map_each = _layer_label, before_each = "--layer")
    args.add_all(locks, map_each = _lock_arg, before_each = "--lock")
    args.add_all(bases, map_each = _base_arg, before_each = "--base")
    args.add_all(status, before_each = "--status")
    args.add("--out", out)
    wharf_action(
        ctx,
        "provenance",
        args,
        inputs = descriptors + manifests + [layer.metadata for layer in layers] + [lock.file for lock in locks] +
                 [b.descriptor for b in bases] + status,
        outputs = [out],
        mnemonic = "Provenance",
        progress_message = "Writing the provenance of %{label}",
        worker = True,
    )
    return out
