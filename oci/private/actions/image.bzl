"""emit_image: an image's config, manifest, digest and descriptor, from layer metadata only."""

load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:layer_args.bzl", "extern_arg")

def emit_image(ctx, *, spec, base_config, base_layers, extern, layers, defaults, inputs, labels_files = [], annotations_files = [], status = []):
    """Writes `<name>.config.json`, `.manifest.json`, `.digest` and `.descriptor.json`.

    No layer blob is an input: the action reads the layers' metadata (and an imported base's
    layer list), so an image's manifest never waits for, nor downloads, a blob.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      spec: dict, the image's own settings (`image --spec-json`).
      base_config: File or None, the base image's config.
      base_layers: list of OciLayerInfo of the base (an image of this rule set).
      extern: list of struct(layers, dir, ...): the base's layers kept in an imported layout.
      layers: list of OciLayerInfo above the base, bottom first.
      defaults: list of File: image config defaults under `spec` (`image --defaults`).
      inputs: depset of File the action waits for without reading (e.g. signature records).
      labels_files: list of File of KEY=VALUE labels under `spec`'s.
      annotations_files: list of File of KEY=VALUE annotations under `spec`'s.
      status: list of File, the workspace status to expand `{KEY}` from (stamp_status).

    Returns:
      struct(config, manifest, digest, descriptor) of File.
    """
    prefix = ctx.label.name
    out = struct(
        config = ctx.actions.declare_file(prefix + ".config.json"),
        manifest = ctx.actions.declare_file(prefix + ".manifest.json"),
        digest = ctx.actions.declare_file(prefix + ".digest"),
        descriptor = ctx.actions.declare_file(prefix + ".descriptor.json"),
    )
    args = ctx.actions.args()

    # On the command line, not in a file: a file is one more action and one more output to
    # cache for every image.
    args.add("--spec-json", json.encode(spec))
    if base_config:
        args.add("--base-config", base_config)
        args.add_all(extern, map_each = extern_arg, before_each = "--base-extern")
        args.add_all([layer.metadata for layer in base_layers], before_each = "--base-layer")
    args.add_all([layer.metadata for layer in layers], before_each = "--layer")
    args.add_all(defaults, before_each = "--defaults")
    args.add_all(labels_files, before_each = "--labels-file")
    args.add_all(annotations_files, before_each = "--annotations-file")
    args.add_all(status, before_each = "--status")
    args.add("--config", out.config)
    args.add("--manifest", out.manifest)
    args.add("--digest", out.digest)
    args.add("--descriptor", out.descriptor)
    wharf_action(
        ctx,
        "image",
        args,
        inputs = depset(
            # The layer lists of an imported layout, not the layout itself.
            [layer.metadata for layer in base_layers + layers] +
            ([base_config] if base_config else []) + [e.layers for e in extern] + defaults +
            labels_files + annotations_files + status,
            transitive = [inputs],
        ),
        outputs = [out.config, out.manifest, out.digest, out.descriptor],
        mnemonic = "OciImage",
        progress_message = "Writing image manifest %{label}",
        worker = True,
    )
    return out
