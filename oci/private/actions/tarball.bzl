"""The docker-loadable tarball (oci_image's output group, oci_load) and oci_load's launcher."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//toolchain:actions.bzl", "wharf_action", "wharf_launcher")
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
    args = _docker_tar_args(ctx, image, repo_tags, status)
    args.add("--out", out)
    if facts:
        args.add("--facts", facts)
    wharf_action(
        ctx,
        "docker-tar",
        args,
        inputs = _docker_tar_inputs(image, status) + [layer.blob for layer in image.layers],
        outputs = [out] + ([facts] if facts else []),
        mnemonic = "DockerTarball",
        progress_message = "Writing docker tarball %{label}",
    )
    return out

def _docker_tar_args(ctx, image, repo_tags, status):
    args = ctx.actions.args()
    args.add("--config", image.config)
    args.add("--manifest", image.manifest)
    args.add("--descriptor", image.descriptor)
    args.add_all(image.extern_layers, map_each = extern_arg, before_each = "--extern")
    args.add_all(image.layers, map_each = layer_arg, before_each = "--layer")
    args.add_all([repo_tags] if type(repo_tags) == "string" else repo_tags, before_each = "--tag")
    args.add_all(status, before_each = "--status")
    return args

def _docker_tar_inputs(image, status):
    """The docker-tar action's inputs but the image's own layer blobs."""
    return [image.config, image.manifest, image.descriptor] + [layer.metadata for layer in image.layers] + \
           [f for e in image.extern_layers for f in [e.layers, e.dir]] + status

def is_shallow(image):
    """Whether the build lacks some of the image's layer blobs: a base oci.pull pulled shallow.

    Args:
      image: the image's OciImageInfo.

    Returns:
      bool.
    """
    return any([getattr(e, "shallow", False) for e in image.extern_layers])

def _runfile_arg(f):
    return "{}={}".format(f.path, f.short_path)

def _origin_arg(extern):
    return "{}={}".format(extern.layers.path, extern.origin) if getattr(extern, "shallow", False) else None

def emit_load_plan(ctx, image, repo_tags, *, label, basename, facts, status = []):
    """Writes `<basename>.plan.json`: the docker tarball described for `wharf load-tar` (oci_load's run script).

    What emit_docker_tarball writes, but the blobs by reference: the build's by runfiles path,
    a shallow base's by the registry repository it was pulled from, read at `bazel run` time.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      image: the image's OciImageInfo.
      repo_tags: a repository:tag, or a list of them (`{KEY}` expanded from `status`).
      label: the image's Label, for messages.
      basename: the plan's name without `.plan.json`.
      facts: File: where to write the platform, digests and tags, for oci_load's run script.
      status: the workspace status files when stamping (stamp_status), else empty.

    Returns:
      struct(plan, runfiles): the plan, and the files it names (runfiles of the run script).
    """
    plan = ctx.actions.declare_file(basename + ".plan.json")
    blobs = [layer.blob for layer in image.layers] + [e.dir for e in image.extern_layers if not getattr(e, "shallow", False)]
    args = _docker_tar_args(ctx, image, repo_tags, status)
    args.add_all(image.extern_layers, map_each = _origin_arg, before_each = "--origin")
    args.add_all(blobs, map_each = _runfile_arg, before_each = "--runfile", expand_directories = False)
    args.add("--image", label_text(label))
    args.add("--plan", plan)
    args.add("--facts", facts)
    wharf_action(
        ctx,
        "docker-tar",
        args,
        inputs = _docker_tar_inputs(image, status),
        outputs = [plan, facts],
        mnemonic = "DockerTarballPlan",
        progress_message = "Describing docker tarball %{label} (a shallow base's layers are read at run time)",
    )
    return struct(plan = plan, runfiles = blobs)

def emit_load_launcher(ctx, *, template, images, cli, index = None):
    """Writes `<name>.sh`, which loads one of `images` into docker, podman or containerd (`bazel run`).

    Args:
      ctx: the rule context (needs the wharf toolchain: an image on a shallow base is
        streamed by `wharf load-tar`).
      template: File, the launcher's template (load.sh.tpl).
      images: list of struct(platform, facts, tarball, plan): each image's OS/ARCH[/VARIANT],
        its facts (emit_docker_tarball, emit_load_plan), and its tarball or, on a shallow
        base, its plan (the other None).
      cli: `docker`, `podman`, `nerdctl`, `ctr`, or empty (docker if its daemon answers, else
        podman, else nerdctl).
      index: the index's Label when `images` are an index's, else None.

    Returns:
      struct(executable, runfiles): the launcher and the tool's runfiles.
    """
    return wharf_launcher(ctx, template = template, substitutions = {
        "{{CLI}}": shell.quote(cli),
        "{{INDEX}}": shell.quote(label_text(index) if index else ""),
        "{{LABEL}}": shell.quote(label_text(ctx.label)),
        "{{IMAGES}}": " ".join([
            shell.quote(" ".join([i.platform, i.facts.short_path, i.tarball.short_path if i.tarball else "-", i.plan.short_path if i.plan else "-"]))
            for i in images
        ]),
    })
