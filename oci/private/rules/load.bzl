"""oci_load: `bazel run` loads an image, or an index's image for one platform, into docker, podman or containerd."""

load("//oci/private/actions:labels.bzl", "label_text")
load("//oci/private/actions:tarball.bzl", "default_repo_tag", "emit_docker_tarball", "emit_load_launcher", "emit_load_plan", "is_shallow")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_index_info.bzl", "OciIndexInfo")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")
load(":fetch_base_layers.bzl", "FETCH_BASE_LAYERS_ATTRS", "image_attr", "image_target")
load(":stamp.bzl", "STAMP_ATTRS", "stamp_status")

def _platform(image):
    return "/".join([image.os, image.architecture] + ([image.variant] if image.variant else []))

def _images(ctx):
    """The images to load: an image, an index's for `platform`, or all of an index's."""
    top = image_target(ctx)
    images = top[OciIndexInfo].images if OciIndexInfo in top else [top[OciImageInfo]]
    want = ctx.attr.platform
    if not want:
        return images
    chosen = [i for i in images if _platform(i) == want or _platform(i).startswith(want + "/")]
    if not chosen:
        fail("oci_load {}: platform \"{}\": {} has no image for it; it has {}".format(
            label_text(ctx.label),
            want,
            label_text(top.label),
            ", ".join([_platform(i) for i in images]),
        ))
    return chosen[:1]

def _load_image(ctx, image, tags, base, status):
    """An image's facts and its tarball, or on a shallow base its plan (`wharf load-tar` at run time).

    On a shallow base the tarball is only in the output group `tarball`, whose action fails
    naming the base layer it lacks and the remedy: a tarball is never incomplete.
    """
    facts = ctx.actions.declare_file(base + ".load.txt")
    if not is_shallow(image):
        tarball = emit_docker_tarball(ctx, image, tags, basename = base, facts = facts, status = status)
        return struct(platform = _platform(image), facts = facts, tarball = tarball, plan = None, runfiles = [tarball], output = tarball)
    planned = emit_load_plan(ctx, image, tags, label = image_target(ctx).label, basename = base, facts = facts, status = status)
    tarball = emit_docker_tarball(ctx, image, tags, basename = base, status = status)
    return struct(platform = _platform(image), facts = facts, tarball = None, plan = planned.plan, runfiles = [planned.plan] + planned.runfiles, output = tarball)

def _oci_load_impl(ctx):
    tags = ctx.attr.repo_tags + ([ctx.attr.repo_tag] if ctx.attr.repo_tag else [])
    tags = tags or [default_repo_tag(image_target(ctx).label)]
    status = stamp_status(ctx, tags, [])
    images = _images(ctx)
    loads = []
    for image in images:
        base = ctx.label.name
        if len(images) > 1:
            base += "_" + _platform(image).replace("/", "_")
        loads.append(_load_image(ctx, image, tags, base, status))
    index = image_target(ctx).label if len(images) > 1 else None
    launcher = emit_load_launcher(ctx, template = ctx.file._launcher_template, images = loads, cli = ctx.attr.cli, index = index)
    own = ctx.runfiles(files = [f for entry in loads for f in entry.runfiles + [entry.facts]])
    return [
        DefaultInfo(executable = launcher.executable, runfiles = launcher.runfiles.merge(own), files = depset([entry.tarball or entry.plan for entry in loads])),
        OutputGroupInfo(tarball = depset([entry.output for entry in loads])),
    ]

_DOC = """`bazel run :load` loads the image into a local container runtime and prints the
runtime, the tags and the digests it loaded: docker (when its daemon answers), else podman,
else nerdctl (containerd), or the one `cli` names.

The tarball is a docker archive and an OCI layout in one (as `docker save` writes since
Docker 25), with every tag in manifest.json and the first in index.json; the run script
tags the others. Runtimes that read the layout keep the manifest as built, so the loaded
image's manifest digest is the build's: podman (`podman image inspect`'s Digest),
containerd (`ctr images ls`, `nerdctl`) and docker with the containerd image store (its
image ID). Classic docker keeps no manifest; its image ID is the config digest, as built.
The run script checks what the runtime reports against the build's digests.

For an `oci_image_index`, `platform` picks one image at build time; without it the run
script loads the host's platform's (`uname -m`) or the one `-- --platform OS/ARCH[/VARIANT]`
names; each platform's tarball is built. Other arguments after `--` go to the CLI before
its command, e.g. podman's `--root DIR`, nerdctl's `--namespace NS`.

`repo_tags` take `{KEY}` placeholders from the workspace status when stamping, as
`oci_push`'s `remote_tags` do; without stamping `bazel run` refuses such a tag.
`bazel build :load` gives the tarball (`docker load -i`, `podman load -i`,
`nerdctl load -i`, `ctr images import`).

On a base `oci.pull` pulled (shallow: the build has no layer of it) `bazel run :load` works
as is: the build writes a plan instead of the tarball (`<name>.plan.json`, what the tarball
holds with the base's layers by reference), and the run script streams the archive, the
same bytes, into the runtime's `load` with `wharf load-tar`, the base's layers read from the
registry the base was pulled from with push's credentials (`ctr` gets a temporary file,
removed after). The client never stores those layers. The tarball itself is then only in
the output group `tarball`, which fails naming the missing layer and the remedy
(`fetch_base_layers = True`, or `--@rules_wharf//oci/settings:fetch_base_layers`): a tarball
file is never incomplete. See docs/load.md.

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_load")

# bazel run //app:load, then: docker run --rm app:dev
oci_load(
    name = "load",
    image = ":image",
    repo_tags = ["app:dev", "app:{BUILD_EMBED_LABEL}"],
)

# bazel run //app:load_index -- --platform linux/arm64
oci_load(
    name = "load_index",
    image = ":multiarch",
    repo_tags = ["app:multi"],
    cli = "podman",
)
```
"""

oci_load = rule(
    implementation = _oci_load_impl,
    doc = _DOC,
    attrs = dict({
        "image": image_attr("The image (`oci_image`) or index (`oci_image_index`). On a base `oci.pull` pulled, `bazel run` streams the base's layers from its registry; the tarball (`bazel build`, output group `tarball`) needs `fetch_base_layers`."),
        "repo_tags": attr.string_list(doc = "repository:tag of the loaded image, in order; `{KEY}` placeholders are expanded from the workspace status when stamping. Default (with `repo_tag` empty): `bazel/<package>:<image name>`."),
        "repo_tag": attr.string(doc = "One more repository:tag, after `repo_tags` (the attribute before there were several)."),
        "platform": attr.string(doc = "For an index: the image to load, `OS/ARCH[/VARIANT]` (`linux/arm64`); empty picks at run time (the host's, or `-- --platform`)."),
        "cli": attr.string(doc = "`docker`, `podman`, `nerdctl` or `ctr` (containerd's own CLI); empty picks docker if its daemon answers, else podman, else nerdctl.", values = ["", "docker", "podman", "nerdctl", "ctr"]),
        "_launcher_template": attr.label(default = Label("//oci/private/rules:load.sh.tpl"), allow_single_file = True),
    }, **(STAMP_ATTRS | FETCH_BASE_LAYERS_ATTRS)),
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
