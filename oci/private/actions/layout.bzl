"""emit_layout: the OCI layout directory of an image or an index."""

load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:layer_args.bzl", "extern_arg", "layer_arg")

def emit_layout(ctx, *, out, descriptor, blobs, layers, extern_layers, ref_name):
    """Assembles an OCI layout directory: index.json with one entry, and every blob.

    The blobs are copied (hard-linked where possible), so this stays a process, not a worker
    action, and runs only when the layout is asked for (output group `layout`, push).

    Args:
      ctx: the rule context (needs the wharf toolchain).
      out: the declared output directory.
      descriptor: File, the descriptor of the layout's one entry (image manifest or index).
      blobs: list of File: JSON blobs (index, manifests, configs).
      layers: list of OciLayerInfo: every layer blob with its metadata.
      extern_layers: list of struct(layers, dir): layers kept in imported layouts.
      ref_name: the entry's `org.opencontainers.image.ref.name`.
    """
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
