"""oci_push and oci_push_all: runnable targets that push images to registries (and sign them);
oci_push_verify: a runnable check of what a push (or a push_all) signed."""

load("//oci/private/actions:push.bzl", "emit_push_launcher", "emit_push_plan", "emit_push_tags")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_index_info.bzl", "OciIndexInfo")
load("//oci/private/providers:oci_push_info.bzl", "OciPushInfo")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")
load(":shared_attrs.bzl", "shared_attrs")
load(":stamp.bzl", "STAMP_ATTRS", "should_stamp")

def _blobs_group(blobs):
    # A hidden output group is built with the target but is not one of its "important"
    # outputs, which `bazel run` downloads even with --remote_download_minimal: so the
    # layers are produced (into the output tree, the disk cache or the remote cache, wherever
    # the build puts them) and push streams each from there.
    return OutputGroupInfo(_hidden_top_level_INTERNAL_ = blobs)

# What `attestations` may name: the SBOM statements (SPDX, CycloneDX or both) and provenance.
_KINDS = {
    "sbom": ["spdx", "cyclonedx"],
    "spdx": ["spdx"],
    "cyclonedx": ["cyclonedx"],
    "provenance": ["provenance"],
}

def _kinds(ctx):
    """The statement kinds to attach, and whether `attestations` named them."""
    named = ctx.attr.attestations
    if named == ["none"]:
        return [], True
    for k in named:
        if k not in _KINDS:
            fail("{}: attestations: unknown kind {} (known: {}, or \"none\" alone)".format(ctx.label, repr(k), ", ".join(_KINDS.keys())))
    if named:
        return {f: None for k in named for f in _KINDS[k]}.keys(), True

    # Signing attaches every statement the image has by default.
    return (_KINDS["sbom"] + _KINDS["provenance"]) if ctx.attr.sign else [], False

def _statements(ctx, top):
    """The unsigned statements the push signs and attaches: the top's, then each image's of an index.

    An SBOM kind named in `attestations` for an image without an SBOM fails; by default (or
    for an index's images, the index's SBOM covering them) what is missing is left out.
    """
    kinds, named = _kinds(ctx)
    out = []
    for i, t in enumerate([top] + getattr(top, "images", [])):
        for k in kinds:
            f = getattr(t.attestations, k)
            if f:
                out.append(f)
            elif named and i == 0:
                fail("{}: attestations has {}, but {} has no SBOM: its contents list no packages and its layers no files (see docs/sbom.md); leave it out of attestations".format(ctx.label, repr(k), ctx.attr.image.label))
    return out

def _oci_push_impl(ctx):
    image = ctx.attr.image
    tags = emit_push_tags(ctx, tags = ctx.attr.remote_tags, tags_files = ctx.files.remote_tags_file, stamp = should_stamp(ctx))
    if ctx.attr.repositories and not ctx.attr.repository:
        fail("{}: repositories needs repository (the first repository to push to)".format(ctx.label))
    repositories = [ctx.attr.repository] + ctx.attr.repositories
    top = image[OciImageInfo] if OciImageInfo in image else image[OciIndexInfo]
    statements = _statements(ctx, top)

    # One plan per repository; one push of them all sends each blob once per registry.
    plans = [
        emit_push_plan(ctx, top = top, tags = tags, repository = r, suffix = ".{}".format(i) if i else "", attestations = statements, sign = ctx.attr.sign)
        for i, r in enumerate(repositories)
    ]
    files = [p.plan for p in plans]
    launcher = emit_push_launcher(ctx, template = ctx.file._launcher_template, plans = files)
    own = ctx.runfiles(files = files, symlinks = plans[0].small)
    return [
        DefaultInfo(executable = launcher.executable, runfiles = launcher.runfiles.merge(own)),
        # Built whenever the push target is, never downloaded (see _blobs_group).
        OciPushInfo(plan = files[0], plans = files, runfiles = own, blobs = plans[0].blobs),
        _blobs_group(plans[0].blobs),
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

_OCI_PUSH_RULE_DOC = """The rule behind `oci_push`, which adds `<name>.verify` (an `oci_push_verify`):
use it for a push without that target. `bazel run` pushes the image by digest, applies the tags
and, with `sign = True`, signs and attests it; see `oci_push` for tags, stamping and signing.

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_push_rule")

oci_push_rule(
    name = "push",
    image = ":image",
    repository = "ghcr.io/org/app",
    remote_tags = ["latest"],
)
```""" + _RUN_DOC

oci_push_rule = rule(
    implementation = _oci_push_impl,
    doc = _OCI_PUSH_RULE_DOC,
    attrs = {
        "image": attr.label(doc = "The image (`oci_image`) or index (`oci_image_index`) to push.", mandatory = True, providers = [[OciImageInfo], [OciIndexInfo]]),
        "repository": attr.string(doc = "Registry and repository, e.g. `ghcr.io/org/app`. May be given at run time instead."),
        "repositories": attr.string_list(doc = "Further repositories to push the same image to, with the same tags, after `repository` (which they need). One push: each blob is sent once per registry and mounted into its other repositories. `-- --repository`/`--tag` are then refused (`--registry` moves them all)."),
        "remote_tags": attr.string_list(doc = "Tags to apply after pushing by digest; `{KEY}` placeholders are expanded from the workspace status when stamping."),
        "remote_tags_file": attr.label(doc = "A file of tags, one per line (blank lines ignored), e.g. another rule's output; applied after `remote_tags`, placeholders expanded the same way.", allow_single_file = True),
        "sign": attr.bool(doc = "Sign every pushed digest (the image, or the index and each of its images) and attach `attestations`: `bazel run` fails before uploading anything when no key or signer is given at run time (`-- --sign-key=FILE`, `WHARF_SIGN_KEY`, `--signer=PROGRAM`; see docs/signing.md). There is no key attribute: a key is never a build input."),
        "attestations": attr.string_list(doc = "Unsigned in-toto statements to sign and attach as attestations: `sbom` (the SPDX and CycloneDX statements), `spdx`, `cyclonedx`, `provenance` (SLSA provenance v1), or `none` alone. Default: none, or with `sign = True` the SBOM statements where the image has an SBOM and the provenance. For an index: the index's, then each image's. Naming an SBOM kind for an image without an SBOM fails. Without `sign`, named statements are attached when a key is given at run time."),
        "_launcher_template": attr.label(doc = "The run script's template.", default = Label("//oci/private/rules:push.sh.tpl"), allow_single_file = True),
    } | STAMP_ATTRS,
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)

def oci_push(name, **kwargs):
    """Pushes an image or index to a registry on `bazel run`; `<name>.verify` checks what it signed.

    `bazel run` pushes the image by digest, then applies the tags, reads both back from
    the registry, and prints `REPOSITORY@sha256:...` (stdout) and a summary of the blobs sent,
    already present and mounted (stderr). Arguments after `--` override the rule's: `--repository
    HOST/NAME` and `--tag T` (repeatable; replaces the rule's tags). Credentials come from the
    Docker config (`~/.docker/config.json`, `DOCKER_CONFIG`) and credential helpers. Where
    layers come from and the other run-time flags: `oci_push_rule`.

    The rule's tags are `remote_tags`, then the lines of `remote_tags_file` (another rule's
    output, as rules_oci's `remote_tags` file), in order, each once. When stamping (`--stamp`, or
    `stamp = 1`), `{KEY}` in a tag is replaced by the key's value in Bazel's workspace status
    (`{BUILD_EMBED_LABEL}` from `--embed_label`, `{STABLE_GIT_COMMIT}` and other keys from
    `--workspace_status_command`): `remote_tags = ["{STABLE_GIT_COMMIT}"]`. A key the status
    lacks fails the build naming the key and the tag. Without stamping such a tag stays as
    written and `bazel run` refuses it (build with `--stamp`), so `bazel build //...` still
    works. Every tag must match `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.

    With `sign = True`, `bazel run` signs every digest it pushes (cosign's simple-signing
    payload) and attaches `attestations`, unsigned in-toto statements the build wrote
    (the image's SBOMs and SLSA provenance: output group `attestations` of the image), each
    wrapped in a signed DSSE envelope. The key comes only at run time (`-- --sign-key=FILE`
    with `COSIGN_PASSWORD`, `WHARF_SIGN_KEY`, or `--signer=PROGRAM`), never from an attribute:
    no key, password or token is ever an action input, in a cache or in runfiles.
    `bazel run :<name>.verify -- --key=cosign.pub` checks the pushed signatures and
    attestations (`wharf verify`; see docs/signing.md).

    ```starlark
    load("@rules_wharf//oci:defs.bzl", "oci_push")

    # bazel run --stamp --embed_label=1.2.3 //app:push
    # pushes :image, tags it latest and v1.2.3, prints ghcr.io/org/app@sha256:...
    oci_push(
        name = "push",
        image = ":image",
        repository = "ghcr.io/org/app",
        remote_tags = [
            "latest",
            "v{BUILD_EMBED_LABEL}",
        ],
    )

    # One image, three repositories, one push: blobs go once to each registry (mounted into
    # ghcr.io/org/app-mirror), the manifest and tags to each repository; one line printed each.
    oci_push(
        name = "push_everywhere",
        image = ":image",
        repository = "ghcr.io/org/app",
        repositories = [
            "ghcr.io/org/app-mirror",
            "registry.example.com/app",
        ],
        remote_tags = ["latest"],
    )

    # Signed, with the SBOM and provenance attested:
    #   COSIGN_PASSWORD=... bazel run //app:push_signed -- --sign-key=$PWD/cosign.key
    #   bazel run //app:push_signed.verify -- --key=$PWD/cosign.pub
    oci_push(
        name = "push_signed",
        image = ":image",
        repository = "ghcr.io/org/app",
        sign = True,
        attestations = [
            "sbom",
            "provenance",
        ],
    )
    ```

    Args:
      name: the target name; `<name>.verify` is its `oci_push_verify`.
      **kwargs: attributes of `oci_push_rule` (`image`, `repository`, `repositories`,
        `remote_tags`, `remote_tags_file`, `sign`, `attestations`, `stamp`) and common
        attributes (`tags`, `visibility`, ...).
    """
    _with_verify(oci_push_rule, name, kwargs)

def _oci_push_verify_impl(ctx):
    info = ctx.attr.push[OciPushInfo]
    launcher = emit_push_launcher(ctx, template = ctx.file._launcher_template, plans = info.plans)
    return [DefaultInfo(executable = launcher.executable, runfiles = launcher.runfiles.merge(info.runfiles))]

oci_push_verify = rule(
    implementation = _oci_push_verify_impl,
    doc = """`bazel run` checks, with `wharf verify`, that the images `push` pushed carry signatures
by the key given after `--` and every attestation the push attaches, reading the registry the
push's plans name. A missing signature, one by another key, a tampered envelope or a missing
attestation fails, naming the image; every image is checked whatever fails. `oci_push` adds one as `<name>.verify`; the key is given at
run time only (see docs/signing.md).

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_push_verify")

# bazel run //app:verify_release -- --key=$PWD/cosign.pub
oci_push_verify(
    name = "verify_release",
    push = "//app:push",
)
```""",
    attrs = {
        "push": attr.label(doc = "The `oci_push` (or `oci_push_all`: every image of every push) target whose pushed images to check.", mandatory = True, providers = [OciPushInfo]),
        "_launcher_template": attr.label(doc = "The run script's template.", default = Label("//oci/private/rules:verify.sh.tpl"), allow_single_file = True),
    },
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)

def _oci_push_all_impl(ctx):
    infos = [p[OciPushInfo] for p in ctx.attr.pushes]
    plans = [p for i in infos for p in i.plans]
    launcher = emit_push_launcher(ctx, template = ctx.file._launcher_template, plans = plans)
    own = ctx.runfiles().merge_all([i.runfiles for i in infos])
    blobs = depset(transitive = [i.blobs for i in infos])
    return [
        DefaultInfo(executable = launcher.executable, runfiles = launcher.runfiles.merge(own)),
        # Every push's plans, so that an oci_push_verify checks them all.
        OciPushInfo(plan = plans[0], plans = plans, runfiles = own, blobs = blobs),
        _blobs_group(blobs),
    ]

_PUSH_ALL_RUN = """`bazel run` pushes every image of `pushes` (`oci_push` targets, each with its
`repository` and tags) in one process: each blob is checked once per repository and sent once
per registry (mounted into the other repositories of that registry), manifests are put once
every blob they refer to is in place, and the summary gives per image its digest, tags and the
bytes sent, already present and mounted, then the totals. Prints one `REPOSITORY@sha256:...`
line per image, in the order of `pushes`. `-- --registry HOST[:PORT]` pushes every image to
another registry (same repository paths); `--repository` and `--tag` name one image and are
refused here."""

_OCI_PUSH_ALL_RULE_DOC = """The rule behind `oci_push_all`, which adds `<name>.verify` (an `oci_push_verify`
of every image): use it for a push without that target. """ + _PUSH_ALL_RUN + """

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_push_all_rule")

oci_push_all_rule(
    name = "release",
    pushes = [
        ":push_api",
        ":push_worker",
    ],
)
```""" + _RUN_DOC

oci_push_all_rule = rule(
    implementation = _oci_push_all_impl,
    doc = _OCI_PUSH_ALL_RULE_DOC,
    attrs = {
        "pushes": attr.label_list(doc = "The `oci_push` targets to push together.", mandatory = True, providers = [OciPushInfo]),
        "_launcher_template": attr.label(doc = "The run script's template.", default = Label("//oci/private/rules:push.sh.tpl"), allow_single_file = True),
    },
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)

def oci_push_all(name, **kwargs):
    """Pushes the images of several `oci_push` targets in one run; `<name>.verify` checks them all.

    `bazel run` pushes every image of `pushes`, each to its push's repositories with its tags,
    sending each blob once per registry, and prints one `REPOSITORY@sha256:...` line per image
    and each image's outcome; one that fails does not stop the others, and the run fails if
    any did (`oci_push_all_rule` has the details and the run-time flags).

    `bazel run :<name>.verify -- --key=cosign.pub` checks every image of every push, in every
    repository (`wharf verify`): it prints a `verified` line per image, names each image whose
    signature or attestations do not verify, checks all of them whatever fails, and exits
    non-zero if any failed (see docs/signing.md).

    ```starlark
    load("@rules_wharf//oci:defs.bzl", "oci_push", "oci_push_all")

    oci_push(
        name = "push_api",
        image = "//api:image",
        repository = "ghcr.io/org/api",
        remote_tags = ["latest"],
        sign = True,
    )

    oci_push(
        name = "push_worker",
        image = "//worker:image",
        repository = "ghcr.io/org/worker",
        remote_tags = ["latest"],
        sign = True,
    )

    # COSIGN_PASSWORD=... bazel run //:release -- --sign-key=$PWD/cosign.key
    #   (or -- --registry 127.0.0.1:5000 to push both elsewhere)
    # bazel run //:release.verify -- --key=$PWD/cosign.pub
    oci_push_all(
        name = "release",
        pushes = [
            ":push_api",
            ":push_worker",
        ],
    )
    ```

    Args:
      name: the target name; `<name>.verify` is its `oci_push_verify`.
      **kwargs: attributes of `oci_push_all_rule` (`pushes`) and common attributes (`tags`,
        `visibility`, ...).
    """
    _with_verify(oci_push_all_rule, name, kwargs)

def _with_verify(push_rule, name, kwargs):
    """Declares push_rule's target and its `<name>.verify` (both push macros' companion)."""
    push_rule(name = name, **kwargs)
    oci_push_verify(
        name = name + ".verify",
        push = ":" + name,
        visibility = kwargs.get("visibility"),
        **shared_attrs(kwargs)
    )
