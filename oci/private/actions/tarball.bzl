"""The docker-loadable tarball action, shared by oci_image (output group) and oci_load."""

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

def docker_tarball(ctx, image, repo_tag, out):
    """Writes `out`, a `docker load`/`podman load` tarball of an image.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      image: the image's OciImageInfo.
      repo_tag: repository:tag for the loaded image.
      out: the declared output file.
    """
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
