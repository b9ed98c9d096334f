"""emit_files: an image's files document (`wharf files`), every final path and its owners;
emit_explain_launcher: the run script of `<image>.explain` (`wharf explain`)."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//toolchain:actions.bzl", "runfiles_path", "wharf_action", "wharf_launcher")
load(":labels.bzl", "label_text")

def emit_files(ctx, *, layers, extern_layers, base):
    """Writes `<name>.files.json`: each path of the image with its layer, package or label.

    Reads each layer's metadata and its package facts or listing, never a blob. A pulled
    base's layers have neither: the document lists them as `"entries": "unknown"`.

    Args:
      ctx: the image rule's context (needs the wharf toolchain).
      layers: list of OciLayerInfo, bottom first, above `extern_layers`.
      extern_layers: list of struct(layers, origin): a pulled base's layers (`layers` the
        JSON list of their metadata).
      base: the base's Label or None, naming a pulled base whose origin is unknown.

    Returns:
      File.
    """
    out = ctx.actions.declare_file(ctx.label.name + ".files.json")
    spec = [{"base": e.origin or label_text(base), "extern": e.layers.path} for e in extern_layers]
    inputs = [e.layers for e in extern_layers]
    for layer in layers:
        facts = getattr(layer, "facts", None) or []
        listing = getattr(layer, "listing", None)
        spec.append({
            "facts": [f.path for f in facts],
            "label": getattr(layer, "label", None) or "",
            "listing": listing.path if listing else "",
            "metadata": layer.metadata.path,
        })
        inputs += [layer.metadata] + facts + ([listing] if listing else [])
    args = ctx.actions.args()
    args.add("--spec-json", json.encode({"layers": spec}))
    args.add("--out", out)
    wharf_action(
        ctx,
        "files",
        args,
        inputs = inputs,
        outputs = [out],
        mnemonic = "OciFiles",
        progress_message = "Listing the files of %{label}",
        worker = True,
    )
    return out

def emit_explain_launcher(ctx, *, template, files, image):
    """Writes `<name>.sh`, which runs `wharf explain` on an image's files document.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      template: File, the launcher's template (explain.sh.tpl).
      files: File, the image's files document (emit_files).
      image: the image's label text, for messages.

    Returns:
      struct(executable, runfiles): the launcher, and the tool and document as runfiles.
    """
    return wharf_launcher(ctx, template = template, files = [files], substitutions = {
        "{{FILES}}": shell.quote(runfiles_path(files)),
        "{{IMAGE}}": shell.quote(image),
    })
