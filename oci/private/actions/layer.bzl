"""Layer emitters: every action that writes a layer blob and its metadata.

`layer_action` is the one place that declares a layer's blob and metadata, passes them to the
verb and returns the `OciLayerInfo`; `emit_layer` (oci_layer) and `emit_tar_layer`
(oci_image's `tars`) here, and the APK emitters (apk/private/actions), call it.
"""

load("//oci/private/providers:oci_layer_info.bzl", "OciLayerInfo")
load("//toolchain:actions.bzl", "wharf_action")
load(":labels.bzl", "label_text")
load(":sbom.bzl", "emit_layer_sbom")

# A layer blob's extension by compression (the `compression` build setting's values).
LAYER_EXT = {"gzip": ".tar.gz", "none": ".tar", "zstd": ".tar.zst"}

def layer_action(ctx, verb, args, *, prefix, inputs, mnemonic, progress_message, ext = ".tar.gz", blob = None, extra_outputs = [], sbom = None, facts = []):
    """Runs `wharf VERB ARGS... --blob <prefix><ext> --metadata <prefix>.layer.json [FLAG FILE...]`.

    Without `facts`, the verb also lists the layer's entries (`--listing <prefix>.files.json`),
    which the image's files document reads instead of the blob.

    Layer writers are many small actions, so each may run in a persistent worker.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      verb: the wharf verb.
      args: an Args with the verb's own flags; the output flags are added here, last.
      prefix: the outputs' path prefix, relative to the package.
      inputs: list or depset of File.
      mnemonic: the action's mnemonic.
      progress_message: the progress message.
      ext: the blob's extension.
      blob: an input File that already is the blob (the verb checks it and writes only the
        metadata): nothing is declared for it and no `--blob` is passed.
      extra_outputs: list of (flag, File): further outputs the verb writes, in order.
      sbom: File or None: the layer's SBOM part (`OciLayerInfo.sbom`).
      facts: list of File: the package facts of the packages the layer holds, which list
        its entries (no listing is written then).

    Returns:
      OciLayerInfo.
    """
    outputs = []
    if not blob:
        blob = ctx.actions.declare_file(prefix + ext)
        args.add("--blob", blob)
        outputs.append(blob)
    metadata = ctx.actions.declare_file(prefix + ".layer.json")
    args.add("--metadata", metadata)
    outputs.append(metadata)
    for flag, f in extra_outputs:
        args.add(flag, f)
        outputs.append(f)
    listing = None
    if not facts:
        listing = ctx.actions.declare_file(prefix + ".files.json")
        args.add("--listing", listing)
        outputs.append(listing)
    wharf_action(
        ctx,
        verb,
        args,
        inputs = inputs,
        outputs = outputs,
        mnemonic = mnemonic,
        progress_message = progress_message,
        worker = True,
    )
    return OciLayerInfo(blob = blob, metadata = metadata, sbom = sbom, facts = facts, listing = listing, label = label_text(ctx.label))

def emit_tar_layer(ctx, *, tar, index, compression, level):
    """One layer of oci_image's `tars`: the archive as given when it is a valid layer.

    Args:
      ctx: the image rule's context.
      tar: File, the archive.
      index: its position in `tars` (names the outputs).
      compression: the compression setting, for a plain archive.
      level: the compression level.

    Returns:
      OciLayerInfo.
    """

    # The blob's extension follows the archive when it is compressed (kept as is).
    if tar.basename.endswith((".tar.gz", ".tgz")):
        ext = ".tar.gz"
    elif tar.basename.endswith(".tar.zst"):
        ext = ".tar.zst"
    else:
        ext = LAYER_EXT[compression]
    args = ctx.actions.args()
    args.add("--tar", tar)
    args.add("--compression=" + compression)
    args.add("--level={}".format(level))
    args.add("--created-by=rules_wharf oci_image {} tars {}".format(label_text(ctx.label), tar.short_path))
    return layer_action(
        ctx,
        "tar-layer",
        args,
        prefix = "{}_tars/{}_{}".format(ctx.label.name, index, tar.basename.split(".")[0]),
        ext = ext,
        inputs = [tar],
        mnemonic = "OciTarLayer",
        progress_message = "Checking layer %s of %%{label}" % tar.short_path,
    )

# A file's permission bits are not what makes it executable in a layer: Bazel makes every
# output it builds executable (0555) and remote execution marks every input executable, so
# the bits of a source file would differ between local and remote builds. Files Bazel built
# are executable (0755: binaries, and what genrules wrote), source files are not (0644);
# `modes`/`default_file_mode` say otherwise. Each pair of functions below splits a depset
# into the two flags (returning None skips a file).

def _generated(f):
    return not f.is_source

def _path_if_generated(f):
    return f.path if _generated(f) else None

def _path_if_source(f):
    return f.path if f.is_source else None

def _basename_and_path_if_generated(f):
    return "{}={}".format(f.basename, f.path) if _generated(f) else None

def _basename_and_path_if_source(f):
    return "{}={}".format(f.basename, f.path) if f.is_source else None

def _runfiles_path(f):
    # The runfiles tree layout: <repo>/<path>, with the main repository as _main.
    p = f.short_path
    return "{}={}".format(p[3:] if p.startswith("../") else "_main/" + p, f.path)

def _runfiles_entry_if_generated(f):
    return _runfiles_path(f) if _generated(f) else None

def _runfiles_entry_if_source(f):
    return _runfiles_path(f) if f.is_source else None

def _add_files(args, files, include_runfiles):
    """Adds the file flags of `files` (Target -> destination); returns the depsets they read."""
    inputs = []
    for target, dest in files.items():
        # Depsets expand at execution time, never in analysis.
        srcs = target[DefaultInfo].files
        inputs.append(srcs)
        d = dest.replace("%", "%%")
        if dest.endswith("/"):
            args.add_all(srcs, map_each = _basename_and_path_if_generated, format_each = "--exec-file=" + d + "%s", expand_directories = False)
            args.add_all(srcs, map_each = _basename_and_path_if_source, format_each = "--data-file=" + d + "%s", expand_directories = False)
        else:
            # A target with several files and a file destination fails in the tool, naming it.
            # A directory (tree artifact, or source directory) is walked by the tool.
            args.add_all(srcs, map_each = _path_if_generated, format_each = "--exec-file=" + d + "=%s", expand_directories = False)
            args.add_all(srcs, map_each = _path_if_source, format_each = "--data-file=" + d + "=%s", expand_directories = False)

        # An executable's runfiles go beside it, as `bazel run` lays them out, so its
        # runfiles library finds them at <dest>.runfiles.
        executable = target[DefaultInfo].files_to_run.executable
        runfiles = target[DefaultInfo].default_runfiles
        if include_runfiles and executable and runfiles and not dest.endswith("/"):
            rfiles = runfiles.files
            args.add_all(rfiles, map_each = _runfiles_entry_if_generated, format_each = "--exec-file=" + d + ".runfiles/%s")
            args.add_all(rfiles, map_each = _runfiles_entry_if_source, format_each = "--data-file=" + d + ".runfiles/%s")
            inputs.append(rfiles)
    return inputs

def emit_layer(ctx, *, files, include_runfiles, symlinks, empty_dirs, per_path, defaults, tars, mtime, compression, level, created_by, go_mod = None, go_sum = None):
    """A layer from files, symlinks, directories and archives (oci_layer), named after the target.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      files: dict of Target to destination path (ending in `/`: a directory).
      include_runfiles: whether executables' runfiles go beside them.
      symlinks: dict of symlink path to its target.
      empty_dirs: list of directories to create.
      per_path: list of (flag, dict of path to value): `--FLAG=PATH=VALUE` each, sorted by
        path (`mode`, `owner`, `owner-name`, `path-mtime`).
      defaults: list of (flag, value): `--FLAG=VALUE` for each value that is set.
      tars: list of File: archives whose entries join the layer.
      mtime: every entry's mtime, or empty.
      compression: `gzip`, `zstd` or `none`.
      level: the compression level.
      created_by: the history entry's text; empty: `rules_wharf oci_layer <label>`.
      go_mod: File or None: the go.mod that names the modules of the Go binaries in `files`
        (their packages come from `go_packages_aspect` on `files`), for the SBOM part.
      go_sum: File or None: its go.sum.

    Returns:
      OciLayerInfo.
    """
    args = ctx.actions.args()
    inputs = _add_files(args, files, include_runfiles)
    for dest, target in sorted(symlinks.items()):
        args.add("--symlink={}={}".format(dest, target))
    for d in empty_dirs:
        args.add("--dir=" + d)
    for flag, values in per_path:
        for dest, v in sorted(values.items()):
            args.add("--{}={}={}".format(flag, dest, v))
    for flag, v in defaults:
        if v:
            args.add("--{}={}".format(flag, v))
    args.add_all(tars, format_each = "--tar=%s")
    if mtime:
        args.add("--mtime=" + mtime)
    args.add("--compression=" + compression)
    args.add("--level={}".format(level))
    args.add("--created-by=" + (created_by or "rules_wharf oci_layer " + label_text(ctx.label)))
    return layer_action(
        ctx,
        "layer",
        args,
        prefix = ctx.label.name,
        ext = LAYER_EXT[compression],
        inputs = depset(tars, transitive = inputs),
        mnemonic = "OciLayer",
        progress_message = "Writing layer %{label}",
        # What the layer adds to its images' SBOMs: built only when an SBOM is asked for.
        sbom = emit_layer_sbom(ctx, files = files, include_runfiles = include_runfiles, go_mod = go_mod, go_sum = go_sum),
    )
