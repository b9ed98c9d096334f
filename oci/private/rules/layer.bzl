"""oci_layer: a deterministic layer from files, symlinks and directories."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("//oci/private/providers:oci_layer_info.bzl", "OciLayerInfo")
load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")
load(":labels.bzl", "label_text")

_EXT = {"gzip": ".tar.gz", "none": ".tar", "zstd": ".tar.zst"}

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

def _oci_layer_impl(ctx):
    compression = ctx.attr.compression or ctx.attr._compression[BuildSettingInfo].value
    level = ctx.attr.compression_level if ctx.attr.compression_level != -2 else ctx.attr._compression_level[BuildSettingInfo].value
    ext = _EXT[compression]
    blob = ctx.actions.declare_file(ctx.label.name + ext)
    metadata = ctx.actions.declare_file(ctx.label.name + ".layer.json")
    args = ctx.actions.args()
    inputs = []
    for target, dest in ctx.attr.files.items():
        # Depsets expand at execution time, never in analysis.
        files = target[DefaultInfo].files
        inputs.append(files)
        d = dest.replace("%", "%%")
        if dest.endswith("/"):
            args.add_all(files, map_each = _basename_and_path_if_generated, format_each = "--exec-file=" + d + "%s", expand_directories = False)
            args.add_all(files, map_each = _basename_and_path_if_source, format_each = "--data-file=" + d + "%s", expand_directories = False)
        else:
            # A target with several files and a file destination fails in the tool, naming it.
            # A directory (tree artifact, or source directory) is walked by the tool.
            args.add_all(files, map_each = _path_if_generated, format_each = "--exec-file=" + d + "=%s", expand_directories = False)
            args.add_all(files, map_each = _path_if_source, format_each = "--data-file=" + d + "=%s", expand_directories = False)

        # An executable's runfiles go beside it, as `bazel run` lays them out, so its
        # runfiles library finds them at <dest>.runfiles.
        executable = target[DefaultInfo].files_to_run.executable
        runfiles = target[DefaultInfo].default_runfiles
        if ctx.attr.include_runfiles and executable and runfiles and not dest.endswith("/"):
            rfiles = runfiles.files
            args.add_all(rfiles, map_each = _runfiles_entry_if_generated, format_each = "--exec-file=" + d + ".runfiles/%s")
            args.add_all(rfiles, map_each = _runfiles_entry_if_source, format_each = "--data-file=" + d + ".runfiles/%s")
            inputs.append(rfiles)
    for dest, target in sorted(ctx.attr.symlinks.items()):
        args.add("--symlink={}={}".format(dest, target))
    for d in ctx.attr.empty_dirs:
        args.add("--dir=" + d)
    for dest, mode in sorted(ctx.attr.modes.items()):
        args.add("--mode={}={}".format(dest, mode))
    for dest, owner in sorted(ctx.attr.owners.items()):
        args.add("--owner={}={}".format(dest, owner))
    for dest, names in sorted(ctx.attr.owner_names.items()):
        args.add("--owner-name={}={}".format(dest, names))
    for dest, t in sorted(ctx.attr.mtimes.items()):
        args.add("--path-mtime={}={}".format(dest, t))
    for flag, v in [
        ("default-owner", ctx.attr.default_owner),
        ("default-owner-name", ctx.attr.default_owner_name),
        ("default-file-mode", ctx.attr.default_file_mode),
        ("default-dir-mode", ctx.attr.default_dir_mode),
    ]:
        if v:
            args.add("--{}={}".format(flag, v))
    args.add_all(ctx.files.tars, format_each = "--tar=%s")
    if ctx.attr.mtime:
        args.add("--mtime=" + ctx.attr.mtime)
    args.add("--compression=" + compression)
    args.add("--level={}".format(level))
    args.add("--created-by=" + (ctx.attr.created_by or "rules_wharf oci_layer " + label_text(ctx.label)))
    args.add("--blob", blob)
    args.add("--metadata", metadata)
    wharf_action(
        ctx,
        "layer",
        args,
        inputs = depset(ctx.files.tars, transitive = inputs),
        outputs = [blob, metadata],
        mnemonic = "OciLayer",
        progress_message = "Writing layer %{label}",
        worker = True,
    )
    return [
        DefaultInfo(files = depset([blob, metadata])),
        OciLayerInfo(blob = blob, metadata = metadata),
        OutputGroupInfo(blob = depset([blob]), metadata = depset([metadata])),
    ]

oci_layer = rule(
    implementation = _oci_layer_impl,
    doc = """A layer from files, symlinks and empty directories, written in one streaming pass with
its metadata. Entries are sorted, owned by 0:0 with no owner names, dated 1970-01-01; parent
directories are added (0755). A file's bits on disk do not count: files Bazel built
(binaries, generated files, tree artifacts' contents) are 0755 and source files 0644, so give a
checked-in script `modes = {"/path": "0755"}`. Mode, owner, owner names and mtime can be set
per path and as defaults; entries of `tars` keep their own modes and owner numbers.""",
    attrs = {
        "files": attr.label_keyed_string_dict(
            doc = "Target to destination path in the layer. A destination ending in `/` is a directory receiving all of the target's files. A directory (source directory or tree artifact) is copied with everything under it.",
            allow_files = True,
        ),
        "symlinks": attr.string_dict(doc = "Symlink path to its target."),
        "empty_dirs": attr.string_list(doc = "Directories to create."),
        "modes": attr.string_dict(doc = "Path to octal permission bits, e.g. `{\"/app/run\": \"0700\"}`. Paths may be files, symlinks, directories, or parent directories the layer creates; not entries of `tars`."),
        "owners": attr.string_dict(doc = "Path to `uid:gid`, e.g. `{\"/home/app\": \"65532:65532\"}` (default: `default_owner`)."),
        "owner_names": attr.string_dict(doc = "Path to `uname:gname` written beside the numbers, e.g. `{\"/home/app\": \"nonroot:nonroot\"}`; either may be empty (default: `default_owner_name`)."),
        "mtimes": attr.string_dict(doc = "Path to its mtime (RFC 3339 or Unix seconds), over `mtime`."),
        "default_owner": attr.string(doc = "`uid:gid` of every entry not in `owners`, created parent directories included. Default 0:0."),
        "default_owner_name": attr.string(doc = "`uname:gname` of every entry not in `owner_names`. Default: none written."),
        "default_file_mode": attr.string(doc = "Octal mode of regular files not in `modes`. Default: 0755 for files Bazel built (binaries, generated files, everything in a tree artifact) and 0644 for source files, whatever their permission bits on disk (Bazel makes its outputs executable and remote execution marks every input executable, so the bits would make a layer differ between local and remote builds): give a checked-in script `modes = {\"/path\": \"0755\"}`."),
        "default_dir_mode": attr.string(doc = "Octal mode of directories not in `modes`, created parents included. Default 0755."),
        "tars": attr.label_list(doc = "Existing archives (.tar, .tar.gz, .tar.zst) whose entries join the layer, with mtime fixed and owner names dropped. Every entry is checked as an APK data tar is, against the whole layer (`files`, `symlinks` and `empty_dirs` too): no write through a symlink or below a file, one entry per path (a directory may be restated), symlinks with a target, hard links to earlier files (absolute targets made relative). Global PAX headers (`git archive`'s `pax_global_header`) are dropped. See docs/faults.md.", allow_files = [".tar", ".tar.gz", ".tgz", ".tar.zst"]),
        "mtime": attr.string(doc = "mtime of every entry not in `mtimes`, entries of `tars` included (RFC 3339 or Unix seconds). Default: 1970-01-01T00:00:00Z."),
        "include_runfiles": attr.bool(doc = "Put each executable's runfiles at `<dest>.runfiles/<repo>/<path>`, where Bazel's runfiles libraries look.", default = True),
        "compression": attr.string(doc = "Layer compression; empty: the `@rules_wharf//oci/settings:compression` build setting (default gzip).", values = ["", "gzip", "zstd", "none"]),
        "compression_level": attr.int(doc = "Compression level; -2: the `@rules_wharf//oci/settings:compression_level` build setting; -1: the compressor's default.", default = -2),
        "_compression": attr.label(default = "//oci/settings:compression"),
        "_compression_level": attr.label(default = "//oci/settings:compression_level"),
        "created_by": attr.string(doc = "Text of the image history entry for this layer."),
    },
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
