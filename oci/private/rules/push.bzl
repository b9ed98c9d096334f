"""oci_push and oci_push_all: runnable targets that push images to registries."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_index_info.bzl", "OciIndexInfo")
load("//oci/private/providers:oci_push_info.bzl", "OciPushInfo")
load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")
load(":labels.bzl", "label_text")
load(":stamp.bzl", "STAMP_ATTRS", "should_stamp")

def _tags_file(ctx):
    """The rule's tags, one per line, expanded from the workspace status when stamping."""
    if not ctx.attr.remote_tags and not ctx.files.remote_tags_file:
        return None
    out = ctx.actions.declare_file(ctx.label.name + ".tags.txt")
    args = ctx.actions.args()
    args.add_all(ctx.attr.remote_tags, before_each = "--tag")
    args.add_all(ctx.files.remote_tags_file, before_each = "--tags-file")
    inputs = list(ctx.files.remote_tags_file)
    if should_stamp(ctx):
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

def _plan(ctx, top, tags):
    """Writes the plan of `top` (OciImageInfo or OciIndexInfo) and returns (plan, {runfiles path: small file})."""
    images = top.images if hasattr(top, "images") else [top]
    json = ([top.index] if hasattr(top, "images") else []) + [f for i in images for f in [i.manifest, i.config]]
    layers = [layer for i in images for layer in i.layers]
    extern = [e for i in images for e in i.extern_layers]
    args = ctx.actions.args()
    args.set_param_file_format("multiline")
    args.add(label_text(ctx.label), format = "--label=%s")
    args.add(_rf(top.descriptor), format = "--descriptor=%s")
    if ctx.attr.repository:
        args.add(ctx.attr.repository, format = "--repository=%s")
    if tags:
        args.add(_rf(tags), format = "--tags-file=%s")
    args.add_all(json, map_each = _rf, format_each = "--json=%s")
    args.add_all(layers, map_each = _layer_line, format_each = "--layer=%s")
    args.add_all(extern, map_each = _extern_lines)
    plan = ctx.actions.declare_file(ctx.label.name + ".plan")
    ctx.actions.write(plan, args)
    small = [top.descriptor] + json + [layer.metadata for layer in layers] + [e.layers for e in extern] + ([tags] if tags else [])

    # Built whenever the push target is, never downloaded (see _blobs_group).
    blobs = depset([layer.blob for layer in layers] + [e.dir for e in extern if not e.dir.is_source])
    return plan, {_rf(f): f for f in small}, blobs

def _blobs_group(blobs):
    # A hidden output group is built with the target but is not one of its "important"
    # outputs, which `bazel run` downloads even with --remote_download_minimal: so the
    # layers are produced (into the output tree, the disk cache or the remote cache, wherever
    # the build puts them) and push streams each from there.
    return OutputGroupInfo(_hidden_top_level_INTERNAL_ = blobs)

def _launcher(ctx, plans):
    wharf = ctx.toolchains[WHARF_TOOLCHAIN_TYPE].wharf_executable
    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")

    # Relative to the main repository's runfiles directory; `./` so that a tool at its top
    # (a prebuilt `wharf` file in the root package) is not looked up on PATH.
    wharf_path = wharf.short_path if wharf.short_path.startswith("../") else "./" + wharf.short_path
    ctx.actions.expand_template(
        template = ctx.file._launcher_template,
        output = launcher,
        substitutions = {
            "{{LABEL}}": str(ctx.label),
            "{{PLANS}}": " ".join(["--plan " + shell.quote(p.short_path) for p in plans]),
            "{{SELF}}": launcher.path,
            "{{WHARF}}": shell.quote(wharf_path),
        },
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [wharf]).merge(ctx.toolchains[WHARF_TOOLCHAIN_TYPE].wharf_runfiles)
    return launcher, runfiles

def _oci_push_impl(ctx):
    image = ctx.attr.image
    top = image[OciImageInfo] if OciImageInfo in image else image[OciIndexInfo]
    plan, small, blobs = _plan(ctx, top, _tags_file(ctx))
    launcher, runfiles = _launcher(ctx, [plan])
    own = ctx.runfiles(files = [plan], symlinks = small)
    return [
        DefaultInfo(executable = launcher, runfiles = runfiles.merge(own)),
        OciPushInfo(plan = plan, runfiles = own, blobs = blobs),
        _blobs_group(blobs),
    ]

_RUN_DOC = """

Layers are not in the target's runfiles: `bazel run` builds them (a hidden output group) but
needs only manifests, configs and layer metadata, so a build with `--remote_download_minimal` pushes without downloading any layer to
this machine. Each blob the registry lacks is taken from, in order: the output tree (when the
build left it there), the remote cache (`--remote_cache`, or the `--remote_executor`'s cache,
with `--remote_instance_name`, `--remote_header` and the TLS flags, as the `.bazelrc` files give
them to Bazel: `/etc/bazel.bazelrc`, the workspace's `.bazelrc`, `~/.bazelrc` or instead the
files of `-- --bazelrc FILE` / `WHARF_BAZELRC`; configs chosen
with `--config=NAME` on the command line are not visible to the pushed program: name them with
`-- --bazel-config=NAME` or `WHARF_BAZEL_CONFIG=NAME`), the `--disk_cache` directory, and for an
`oci.pull` base the registry it came from (mounted when it is the same registry). Blobs the
registry has are not sent; a blob found nowhere fails the push, naming the image, the blob and
every place searched. Flags after `--` override: `--remote-cache URL`, `--disk-cache DIR`,
`--remote-header NAME=VALUE`, `--no-bazelrc`, `--progress always|never` (default: a progress
line only on a terminal), `--jobs N`, `--stall-timeout D`. See docs/push.md."""

oci_push = rule(
    implementation = _oci_push_impl,
    doc = """`bazel run` pushes the image by digest, then applies the tags, reads both back from
the registry, and prints `REPOSITORY@sha256:...` (stdout) and a summary of the blobs sent,
already present and mounted (stderr). Arguments after `--` override the rule's: `--repository
HOST/NAME` and `--tag T` (repeatable; replaces the rule's tags). Credentials come from the
Docker config (`~/.docker/config.json`, `DOCKER_CONFIG`) and credential helpers.

The rule's tags are `remote_tags`, then the lines of `remote_tags_file` (another rule's
output, as rules_oci's `remote_tags` file), in order, each once. When stamping (`--stamp`, or
`stamp = 1`), `{KEY}` in a tag is replaced by the key's value in Bazel's workspace status
(`{BUILD_EMBED_LABEL}` from `--embed_label`, `{STABLE_GIT_COMMIT}` and other keys from
`--workspace_status_command`): `remote_tags = ["{STABLE_GIT_COMMIT}"]`. A key the status
lacks fails the build naming the key and the tag. Without stamping such a tag stays as
written and `bazel run` refuses it (build with `--stamp`), so `bazel build //...` still
works. Every tag must match `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.""" + _RUN_DOC,
    attrs = {
        "image": attr.label(doc = "The image (`oci_image`) or index (`oci_image_index`) to push.", mandatory = True, providers = [[OciImageInfo], [OciIndexInfo]]),
        "repository": attr.string(doc = "Registry and repository, e.g. `ghcr.io/org/app`. May be given at run time instead."),
        "remote_tags": attr.string_list(doc = "Tags to apply after pushing by digest; `{KEY}` placeholders are expanded from the workspace status when stamping."),
        "remote_tags_file": attr.label(doc = "A file of tags, one per line (blank lines ignored), e.g. another rule's output; applied after `remote_tags`, placeholders expanded the same way.", allow_single_file = True),
        "_launcher_template": attr.label(doc = "The run script's template.", default = Label("//oci/private/rules:push.sh.tpl"), allow_single_file = True),
    } | STAMP_ATTRS,
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)

def _oci_push_all_impl(ctx):
    infos = [p[OciPushInfo] for p in ctx.attr.pushes]
    launcher, runfiles = _launcher(ctx, [i.plan for i in infos])
    for i in infos:
        runfiles = runfiles.merge(i.runfiles)
    return [
        DefaultInfo(executable = launcher, runfiles = runfiles),
        _blobs_group(depset(transitive = [i.blobs for i in infos])),
    ]

oci_push_all = rule(
    implementation = _oci_push_all_impl,
    doc = """`bazel run` pushes every image of `pushes` (`oci_push` targets, each with its
`repository` and tags) in one process: each blob is checked once per repository and sent once
per registry (mounted into the other repositories of that registry), manifests are put once
every blob they refer to is in place, and the summary gives per image its digest, tags and the
bytes sent, already present and mounted, then the totals. Prints one `REPOSITORY@sha256:...`
line per image, in the order of `pushes`. `-- --registry HOST[:PORT]` pushes every image to
another registry (same repository paths); `--repository` and `--tag` name one image and are
refused here.""" + _RUN_DOC,
    attrs = {
        "pushes": attr.label_list(doc = "The `oci_push` targets to push together.", mandatory = True, providers = [OciPushInfo]),
        "_launcher_template": attr.label(doc = "The run script's template.", default = Label("//oci/private/rules:push.sh.tpl"), allow_single_file = True),
    },
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
