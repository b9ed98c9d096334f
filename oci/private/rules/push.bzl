"""oci_push: a runnable target that pushes an image to a registry."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_index_info.bzl", "OciIndexInfo")
load("//tools/toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _oci_push_impl(ctx):
    wharf = ctx.toolchains[WHARF_TOOLCHAIN_TYPE].wharf_executable
    image = ctx.attr.image
    layout = [(image[OciImageInfo] if OciImageInfo in image else image[OciIndexInfo]).layout]
    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    flags = ["--default-repository", ctx.attr.repository] if ctx.attr.repository else []
    for t in ctx.attr.remote_tags:
        flags += ["--default-tag", t]

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
    runfiles = ctx.runfiles(files = [wharf, layout[0]])
    runfiles = runfiles.merge(ctx.toolchains[WHARF_TOOLCHAIN_TYPE].wharf_runfiles)
    return [DefaultInfo(executable = launcher, runfiles = runfiles)]

oci_push = rule(
    implementation = _oci_push_impl,
    doc = """`bazel run` pushes the image by digest, then applies the tags, and prints
`REPOSITORY@sha256:...`. Arguments after `--` override the rule's: `--repository
HOST/NAME` and `--tag T` (repeatable; replaces `remote_tags`). Credentials come from the
Docker config (`~/.docker/config.json`, `DOCKER_CONFIG`) and credential helpers.""",
    attrs = {
        "image": attr.label(doc = "The image (`oci_image`) or index (`oci_image_index`) to push.", mandatory = True, providers = [[OciImageInfo], [OciIndexInfo]]),
        "repository": attr.string(doc = "Registry and repository, e.g. `ghcr.io/org/app`. May be given at run time instead."),
        "remote_tags": attr.string_list(doc = "Tags to apply after pushing by digest."),
        "_launcher_template": attr.label(default = Label("//oci/private/rules:push.sh.tpl"), allow_single_file = True),
    },
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
