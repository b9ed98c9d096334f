"""oci_push: a runnable target that pushes an image to a registry."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_index_info.bzl", "OciIndexInfo")
load("//tools/toolchain:actions.bzl", "wharf_action")
load("//tools/toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")
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

def _oci_push_impl(ctx):
    wharf = ctx.toolchains[WHARF_TOOLCHAIN_TYPE].wharf_executable
    image = ctx.attr.image
    layout = [(image[OciImageInfo] if OciImageInfo in image else image[OciIndexInfo]).layout]
    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    flags = ["--default-repository", ctx.attr.repository] if ctx.attr.repository else []
    tags = _tags_file(ctx)
    if tags:
        flags += ["--default-tags-file", tags.short_path]

    # `bazel run` starts in the runfiles tree of the main repository; short paths of files
    # from other repositories start with ../ and resolve from there.
    ctx.actions.expand_template(
        template = ctx.file._launcher_template,
        output = launcher,
        substitutions = {
            "{{FLAGS}}": " ".join([shell.quote(f) for f in flags]),
            "{{LABEL}}": str(ctx.label),
            "{{LAYOUT}}": shell.quote(layout[0].short_path),
            "{{WHARF}}": shell.quote(wharf.short_path),
        },
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [wharf, layout[0]] + ([tags] if tags else []))
    runfiles = runfiles.merge(ctx.toolchains[WHARF_TOOLCHAIN_TYPE].wharf_runfiles)
    return [DefaultInfo(executable = launcher, runfiles = runfiles)]

oci_push = rule(
    implementation = _oci_push_impl,
    doc = """`bazel run` pushes the image by digest, then applies the tags, and prints
`REPOSITORY@sha256:...`. Arguments after `--` override the rule's: `--repository
HOST/NAME` and `--tag T` (repeatable; replaces the rule's tags). Credentials come from the
Docker config (`~/.docker/config.json`, `DOCKER_CONFIG`) and credential helpers.

The rule's tags are `remote_tags`, then the lines of `remote_tags_file` (another rule's
output, as rules_oci's `remote_tags` file), in order, each once. When stamping (`--stamp`, or
`stamp = 1`), `{KEY}` in a tag is replaced by the key's value in Bazel's workspace status
(`{BUILD_EMBED_LABEL}` from `--embed_label`, `{STABLE_GIT_COMMIT}` and other keys from
`--workspace_status_command`): `remote_tags = ["{STABLE_GIT_COMMIT}"]`. A key the status
lacks fails the build naming the key and the tag. Without stamping such a tag stays as
written and `bazel run` refuses it (build with `--stamp`), so `bazel build //...` still
works. Every tag must match `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.""",
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
