"""oci_load: `bazel run` loads an image into docker or podman."""

load("//oci/private/actions:tarball.bzl", "default_repo_tag", "emit_docker_tarball", "emit_load_launcher")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _oci_load_impl(ctx):
    repo_tag = ctx.attr.repo_tag or default_repo_tag(ctx.attr.image.label)
    tarball = emit_docker_tarball(ctx, ctx.attr.image[OciImageInfo], repo_tag)
    launcher = emit_load_launcher(ctx, template = ctx.file._launcher_template, tarball = tarball, repo_tag = repo_tag, cli = ctx.attr.cli)
    return [
        DefaultInfo(executable = launcher, runfiles = ctx.runfiles(files = [tarball]), files = depset([tarball])),
        OutputGroupInfo(tarball = depset([tarball])),
    ]

_DOC = """`bazel run :load` loads the image into docker (when a daemon answers) or podman, and
prints its tag. Arguments after `--` go to the CLI before `load`, e.g. podman's `--root DIR`.
`bazel build :load` gives the tarball (`docker load -i`).

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_load")

# bazel run //app:load, then: docker run --rm app:dev
oci_load(
    name = "load",
    image = ":image",
    repo_tag = "app:dev",
)
```
"""

oci_load = rule(
    implementation = _oci_load_impl,
    doc = _DOC,
    attrs = {
        "image": attr.label(doc = "The image (`oci_image`).", mandatory = True, providers = [OciImageInfo]),
        "repo_tag": attr.string(doc = "repository:tag of the loaded image. Default: `bazel/<package>:<image name>`."),
        "cli": attr.string(doc = "`docker` or `podman`; empty picks docker if its daemon answers, else podman.", values = ["", "docker", "podman"]),
        "_launcher_template": attr.label(default = Label("//oci/private/rules:load.sh.tpl"), allow_single_file = True),
    },
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
