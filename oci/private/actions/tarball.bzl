"""The docker-loadable tarball (oci_image's output group, oci_load) and oci_load's launcher."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:layer_args.bzl", "extern_arg", "layer_arg")

def default_repo_tag(label):
    """The tag a tarball gets when none is given: bazel/<package>:<name>, as rules_docker did.

    Args:
      label: the image's label.

    Returns:
      A repository:tag string.
    """
    return "bazel/{}:{}".format(label.package or "root", label.name).lower()

def emit_docker_tarball(ctx, image, repo_tag):
    """Writes `<name>.tar`, a `docker load`/`podman load` tarball of an image.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      image: the image's OciImageInfo.
      repo_tag: repository:tag for the loaded image.

    Returns:
      File: the tarball.
    """
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    args = ctx.actions.args()
    args.add("--config", image.config)
    args.add_all(image.extern_layers, map_each = extern_arg, before_each = "--extern")
    args.add_all(image.layers, map_each = layer_arg, before_each = "--layer")
    args.add("--tag", repo_tag)
    args.add("--out", out)
    wharf_action(
        ctx,
        "docker-tar",
        args,
        inputs = [image.config] + [layer.blob for layer in image.layers] + [layer.metadata for layer in image.layers] +
                 [f for e in image.extern_layers for f in [e.layers, e.dir]],
        outputs = [out],
        mnemonic = "DockerTarball",
        progress_message = "Writing docker tarball %{label}",
    )
    return out

def emit_load_launcher(ctx, *, template, tarball, repo_tag, cli):
    """Writes `<name>.sh`, which loads `tarball` into docker or podman (`bazel run`).

    Args:
      ctx: the rule context.
      template: File, the launcher's template (load.sh.tpl).
      tarball: File, from emit_docker_tarball.
      repo_tag: the loaded image's repository:tag.
      cli: `docker`, `podman`, or empty (docker if its daemon answers, else podman).

    Returns:
      File: the executable launcher.
    """
    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.expand_template(
        template = template,
        output = launcher,
        substitutions = {
            "{{CLI}}": shell.quote(cli),
            "{{LABEL}}": str(ctx.label),
            "{{REPO_TAG}}": shell.quote(repo_tag),
            "{{TARBALL}}": shell.quote(tarball.short_path),
        },
        is_executable = True,
    )
    return launcher
