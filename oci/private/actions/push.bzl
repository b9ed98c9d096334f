"""Push emitters: the tags (`expand-tags`), the plan `wharf push --plan` reads, the launchers
of push and of its verification."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//toolchain:actions.bzl", "wharf_action", "wharf_launcher")
load(":labels.bzl", "label_text")

def emit_push_tags(ctx, *, tags, tags_files, stamp):
    """Writes `<name>.tags.txt`: the tags, one per line, expanded from the workspace status when stamping.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      tags: list of string.
      tags_files: list of File, further tags one per line.
      stamp: whether to expand `{KEY}` from the workspace status.

    Returns:
      File, or None when there are no tags.
    """
    if not tags and not tags_files:
        return None
    out = ctx.actions.declare_file(ctx.label.name + ".tags.txt")
    args = ctx.actions.args()
    args.add_all(tags, before_each = "--tag")
    args.add_all(tags_files, before_each = "--tags-file")
    inputs = list(tags_files)
    if stamp:
        # Stable last: a key in both files takes the stable value.
        status = [ctx.version_file, ctx.info_file]
        args.add_all(status, before_each = "--status")
        inputs += status
    args.add("--out", out)
    wharf_action(
        ctx,
        "expand-tags",
        args,
        inputs = inputs,
        outputs = [out],
        mnemonic = "OciPushTags",
        progress_message = "Writing the tags of %{label}",
    )
    return out

# The plan's small files sit in the runfiles under their exec paths: an index's images
# are built in transitioned configurations, so their files share short paths.
_RUNFILES_DIR = "_wharf_push/"

def _rf(f):
    return _RUNFILES_DIR + f.path

def _layer_line(layer):
    # The blob by exec path (found in the output tree only if the build left it there),
    # the metadata by runfiles path.
    return "{}={}".format(layer.blob.path, _rf(layer.metadata))

def _extern_lines(extern):
    lines = ["--extern=" + _rf(extern.layers), "--extern-dir=" + extern.dir.path]
    if getattr(extern, "root", ""):
        lines.append("--extern-dir=" + extern.root)
    if getattr(extern, "origin", ""):
        lines.append("--extern-origin=" + extern.origin)
    return lines

def emit_push_plan(ctx, *, top, tags, repository, suffix = "", attestations = [], sign = False):
    """Writes `<name><suffix>.plan`, what `wharf push --plan` pushes for one image or index.

    Args:
      ctx: the rule context.
      top: OciImageInfo or OciIndexInfo.
      tags: File or None, from emit_push_tags.
      repository: the repository to push to, or empty (given at run time).
      suffix: string, telling apart the plans of one target (one per repository).
      attestations: list of File, unsigned in-toto statements to sign and attach
        (`--attestation`); never a key: keys reach `wharf push` at run time only.
      sign: whether the push must sign (`--sign=required`: it fails before uploading
        anything when no key or signer is given at run time).

    Returns:
      struct(plan, small, blobs): `plan` the File; `small` {runfiles path: File}, the
      manifests, configs, layer metadata, tags and statements the plan names, for the runfiles; `blobs`
      the depset of layer blobs (and built layout directories of bases) push streams.
    """
    images = top.images if hasattr(top, "images") else [top]
    json = ([top.index] if hasattr(top, "images") else []) + [f for i in images for f in [i.manifest, i.config]]
    layers = [layer for i in images for layer in i.layers]
    extern = [e for i in images for e in i.extern_layers]
    args = ctx.actions.args()
    args.set_param_file_format("multiline")
    args.add(label_text(ctx.label), format = "--label=%s")
    args.add(_rf(top.descriptor), format = "--descriptor=%s")
    if repository:
        args.add(repository, format = "--repository=%s")
    if tags:
        args.add(_rf(tags), format = "--tags-file=%s")
    args.add_all(json, map_each = _rf, format_each = "--json=%s")
    args.add_all(layers, map_each = _layer_line, format_each = "--layer=%s")
    args.add_all(extern, map_each = _extern_lines)
    if sign:
        args.add("--sign=required")
    args.add_all(attestations, map_each = _rf, format_each = "--attestation=%s")
    plan = ctx.actions.declare_file(ctx.label.name + suffix + ".plan")
    ctx.actions.write(plan, args)
    small = [top.descriptor] + json + [layer.metadata for layer in layers] + [e.layers for e in extern] + ([tags] if tags else []) + attestations
    return struct(
        plan = plan,
        small = {_rf(f): f for f in small},
        blobs = depset([layer.blob for layer in layers] + [e.dir for e in extern if not e.dir.is_source]),
    )

def emit_push_launcher(ctx, *, template, plans):
    """Writes `<name>.sh`, which runs `wharf push` (push.sh.tpl) or `wharf verify` (verify.sh.tpl) on `plans` (`bazel run`).

    Args:
      ctx: the rule context (needs the wharf toolchain).
      template: File, the launcher's template (push.sh.tpl, verify.sh.tpl).
      plans: list of File, from emit_push_plan.

    Returns:
      struct(executable, runfiles): the launcher and the tool's runfiles.
    """
    return wharf_launcher(ctx, template = template, substitutions = {
        "{{PLANS}}": " ".join(["--plan " + shell.quote(p.short_path) for p in plans]),
    })
