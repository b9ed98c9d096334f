"""emit_index: an image index from its images' descriptors."""

load("//toolchain:actions.bzl", "wharf_action")

def emit_index(ctx, *, descriptors, annotations, annotations_files = [], status = []):
    """Writes `<name>.index.json`, `.descriptor.json` and `.digest`.

    Reads only the images' descriptors (digest, size, platform).

    Args:
      ctx: the rule context (needs the wharf toolchain).
      descriptors: list of File, one per image, in order.
      annotations: dict, the index's annotations (written sorted by key).
      annotations_files: list of File of KEY=VALUE annotations under `annotations`.
      status: list of File, the workspace status to expand `{KEY}` from (stamp_status).

    Returns:
      struct(index, descriptor, digest) of File.
    """
    out = struct(
        index = ctx.actions.declare_file(ctx.label.name + ".index.json"),
        descriptor = ctx.actions.declare_file(ctx.label.name + ".descriptor.json"),
        digest = ctx.actions.declare_file(ctx.label.name + ".digest"),
    )
    args = ctx.actions.args()
    args.add_all(descriptors, before_each = "--manifest")
    args.add_all(["{}={}".format(k, v) for k, v in sorted(annotations.items())], before_each = "--annotation")
    args.add_all(annotations_files, before_each = "--annotations-file")
    args.add_all(status, before_each = "--status")
    args.add("--index", out.index)
    args.add("--descriptor", out.descriptor)
    args.add("--digest", out.digest)
    wharf_action(
        ctx,
        "index",
        args,
        inputs = descriptors + annotations_files + status,
        outputs = [out.index, out.descriptor, out.digest],
        mnemonic = "OciIndex",
        progress_message = "Writing image index %{label}",
        worker = True,
    )
    return out
