"""The docker-loadable tarball (oci_image's output group, oci_load) and oci_load's launcher."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:layer_args.bzl", "extern_arg", "layer_arg")
load(":labels.bzl", "label_text")

def default_repo_tag(label):
    """The tag a tarball gets when none is given: bazel/<package>:<name>, as rules_docker did.

    Args:
      label: the image's label.

    Returns:
      A repository:tag string.
    """
    return "bazel/{}:{}".format(label.package or "root", label.name).lower()

def emit_docker_tarball(ctx, image, repo_tags, *, basename = None, facts = None, status = []):
    """Writes `<basename>.tar`, an image that docker, podman and containerd load.

    The tarball is a docker archive (manifest.json, every tag) and an OCI layout (index.json,
    the first tag): runtimes that read the layout keep the manifest, so its digest is the build's.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      image: the image's OciImageInfo.
      repo_tags: a repository:tag, or a list of them (`{KEY}` expanded from `status`).
      basename: the tarball's name without `.tar`; default the rule's name.
      facts: File or None: where to write the platform, digests and tags, for oci_load's run script.
      status: the workspace status files when stamping (stamp_status), else empty.

    Returns:
      File: the tarball.
    """
    out = ctx.actions.declare_file((basename or ctx.label.name) + ".tar")
    args = ctx.actions.args()
    args.add("--config", image.config)
    args.add("--manifest", image.manifest)
    args.add("--descriptor", image.descriptor)
    args.add_all(image.extern_layers, map_each = extern_arg, before_each = "--extern")
    args.add_all(image.layers, map_each = layer_arg, before_each = "--layer")
    args.add_all([repo_tags] if type(repo_tags) == "string" else repo_tags, before_each = "--tag")
    args.add_all(status, before_each = "--status")
    args.add("--out", out)
    if facts:
        args.add("--facts", facts)
    wharf_action(
        ctx,
        "docker-tar",
        args,
        inputs = [image.config, image.manifest, image.descriptor] + [layer.blob for layer in image.layers] +
                 [layer.metadata for layer in image.layers] + [f for e in image.extern_layers for f in [e.layers, e.dir]] + status,
        outputs = [out] + ([facts] if facts else []),
        mnemonic = "DockerTarball",
        progress_message = "Writing docker tarball %{label}",
    )
    return out

def emit_load_launcher(ctx, *, template, images, cli, index = None):
    """Writes `<name>.sh`, which loads one of `images` into docker, podman or containerd (`bazel run`).

    Args:
      ctx: the rule context.
      template: File, the launcher's template (load.sh.tpl).
      images: list of struct(platform, tarball, facts): each image's OS/ARCH[/VARIANT], its
        tarball and facts (emit_docker_tarball).
      cli: `docker`, `podman`, `nerdctl`, `ctr`, or empty (docker if its daemon answers, else
        podman, else nerdctl).
      index: the index's Label when `images` are an index's, else None.

    Returns:
      File: the executable launcher.
    """
    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.expand_template(
        template = template,
        output = launcher,
        substitutions = {
            "{{CLI}}": shell.quote(cli),
            "{{INDEX}}": shell.quote(label_text(index) if index else ""),
            "{{LABEL}}": shell.quote(label_text(ctx.label)),
            "{{IMAGES}}": " ".join([shell.quote(" ".join([i.platform, i.facts.short_path, i.tarball.short_path])) for i in images]),
        },
        is_executable = True,
    )
    return launcher
