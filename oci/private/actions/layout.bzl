"""OCI layout emitters: writing one (emit_layout), reading one (emit_layout_import), placing
pulled files as one (emit_layout_files)."""

load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:layer_args.bzl", "extern_arg", "layer_arg")

def emit_layout(ctx, *, descriptor, blobs, layers, extern_layers, ref_name):
    """Assembles the OCI layout directory `<name>/`: index.json with one entry, and every blob.

    The blobs are copied (hard-linked where possible), so this stays a process, not a worker
    action, and runs only when the layout is asked for (output group `layout`, push).

    Args:
      ctx: the rule context (needs the wharf toolchain).
      descriptor: File, the descriptor of the layout's one entry (image manifest or index).
      blobs: list of File: JSON blobs (index, manifests, configs).
      layers: list of OciLayerInfo: every layer blob with its metadata.
      extern_layers: list of struct(layers, dir): layers kept in imported layouts.
      ref_name: the entry's `org.opencontainers.image.ref.name`.

    Returns:
      File: the directory.
    """
    out = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add("--descriptor", descriptor)
    args.add_all(blobs, before_each = "--blob")
    args.add_all(extern_layers, map_each = extern_arg, before_each = "--extern")
    args.add_all(layers, map_each = layer_arg, before_each = "--layer")
    args.add("--ref-name", ref_name)
    args.add("--out", out.path)
    wharf_action(
        ctx,
        "layout",
        args,
        inputs = [descriptor] + blobs + [layer.blob for layer in layers] + [layer.metadata for layer in layers] +
                 [f for e in extern_layers for f in [e.layers, e.dir]],
        outputs = [out],
        mnemonic = "OciLayout",
        progress_message = "Assembling OCI layout %{label}",
    )
    return out

def emit_layout_import(ctx, *, layout, os, arch, variant, shallow = False):
    """Reads the image for a platform from an OCI layout directory (a base image).

    Args:
      ctx: the rule context (needs the wharf toolchain).
      layout: File, the layout directory.
      os: the image OS.
      arch: the OCI architecture.
      variant: the architecture variant, or empty.
      shallow: the layout may lack layer blobs (a shallow `oci.pull`).

    Returns:
      struct(config, layers, descriptor): Files, the image's config, the JSON list of its
      layers' metadata and its manifest's descriptor (`<name>.base.config.json`,
      `<name>.base.layers.json`, `<name>.base.descriptor.json`: the base by digest in the
      image's provenance).
    """
    out = struct(
        config = ctx.actions.declare_file(ctx.label.name + ".base.config.json"),
        layers = ctx.actions.declare_file(ctx.label.name + ".base.layers.json"),
        descriptor = ctx.actions.declare_file(ctx.label.name + ".base.descriptor.json"),
    )
    args = ctx.actions.args()
    args.add("--layout", layout.path)
    args.add("--os", os)
    args.add("--arch", arch)
    if variant:
        args.add("--variant", variant)
    if shallow:
        args.add("--shallow")
    args.add("--config", out.config)
    args.add("--layers", out.layers)
    args.add("--descriptor", out.descriptor)
    wharf_action(
        ctx,
        "layout-import",
        args,
        inputs = [layout],
        outputs = [out.config, out.layers, out.descriptor],
        mnemonic = "OciLayoutImport",
        progress_message = "Reading base image layout for %{label}",
    )
    return out

def emit_layout_files(ctx, *, srcs, roots, shallow, image):
    """Places downloaded layout files as the directory `<name>/`, checked for completeness.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      srcs: list of File under `roots`.
      roots: the directory holding the layout's index.json, then any holding layer blobs.
      shallow: whether layer blobs may be absent.
      image: the pulled reference, for the progress message.

    Returns:
      File: the directory.
    """
    out = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add_all(roots, before_each = "--root")
    if shallow:
        args.add("--shallow")
    args.add_all(srcs, before_each = "--file")
    args.add("--out", out.path)
    wharf_action(
        ctx,
        "layout-files",
        args,
        inputs = srcs,
        outputs = [out],
        mnemonic = "OciPulledLayout",
        progress_message = "Placing pulled image {} for %{{label}}".format(image),
    )
    return out
