"""oci_layer: a deterministic layer from files, symlinks and directories."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("//oci/private/actions:layer.bzl", "emit_layer")
load("//oci/private/aspects:go_packages.bzl", "go_packages_aspect")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _oci_layer_impl(ctx):
    a = ctx.attr
    layer = emit_layer(
        ctx,
        files = a.files,
        include_runfiles = a.include_runfiles,
        symlinks = a.symlinks,
        empty_dirs = a.empty_dirs,
        per_path = [("mode", a.modes), ("owner", a.owners), ("owner-name", a.owner_names), ("path-mtime", a.mtimes)],
        defaults = [
            ("default-owner", a.default_owner),
            ("default-owner-name", a.default_owner_name),
            ("default-file-mode", a.default_file_mode),
            ("default-dir-mode", a.default_dir_mode),
        ],
        tars = ctx.files.tars,
        mtime = a.mtime,
        compression = a.compression or a._compression[BuildSettingInfo].value,
        level = a.compression_level if a.compression_level != -2 else a._compression_level[BuildSettingInfo].value,
        created_by = a.created_by,
        go_mod = ctx.file.go_mod,
        go_sum = ctx.file.go_sum,
    )
    return [
        DefaultInfo(files = depset([layer.blob, layer.metadata])),
        layer,
        OutputGroupInfo(blob = depset([layer.blob]), metadata = depset([layer.metadata])),
    ]

_DOC = """A layer from files, symlinks and empty directories, written in one streaming pass with
its metadata. Entries are sorted, owned by 0:0 with no owner names, dated 1970-01-01; parent
directories are added (0755). A file's bits on disk do not count: files Bazel built
(binaries, generated files, tree artifacts' contents) are 0755 and source files 0644, so give a
checked-in script `modes = {"/path": "0755"}`. Mode, owner, owner names and mtime can be set
per path and as defaults; entries of `tars` keep their own modes and owner numbers.

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_layer")

oci_layer(
    name = "app_layer",
    files = {
        "//app/cmd/server": "/usr/bin/server",  # a go_binary, say
        "config.yaml": "/etc/app/",  # a destination ending in / is a directory
    },
    symlinks = {"/usr/local/bin/server": "/usr/bin/server"},
    empty_dirs = ["/var/lib/app"],
    owners = {"/var/lib/app": "65532:65532"},
)

oci_image(
    name = "image",
    apks = "@base",
    layers = [":app_layer"],
    entrypoint = ["/usr/bin/server"],
)
```
"""

oci_layer = rule(
    implementation = _oci_layer_impl,
    doc = _DOC,
    attrs = {
        "files": attr.label_keyed_string_dict(
            doc = "Target to destination path in the layer. A destination ending in `/` is a directory receiving all of the target's files. A directory (source directory or tree artifact) is copied with everything under it. The image's SBOM lists each file with the label that made it, and a `go_binary` with the modules its packages belong to (see `go_mod`).",
            allow_files = True,
            aspects = [go_packages_aspect],
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
        "go_mod": attr.label(doc = "The go.mod the `go_binary` targets of `files` were resolved with (gazelle's `go_deps.from_file`): the image's SBOM names each package's module and version from it, by longest module path. Needed when a binary links packages of other repositories; without it a binary is listed with its Go version and main package only.", allow_single_file = True),
        "go_sum": attr.label(doc = "The go.sum beside `go_mod`: the SBOM gives each module's checksum (`h1:`) from it.", allow_single_file = True),
    },
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
