"""oci_image_rule: a single-platform image from a base, contents and layers (no APK knowledge)."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("//oci/private/actions:attest.bzl", "emit_provenance", "emit_sbom_statements")
load("//oci/private/actions:files.bzl", "emit_files")
load("//oci/private/actions:image.bzl", "emit_image")
load("//oci/private/actions:labels.bzl", "label_text")
load("//oci/private/actions:layer.bzl", "emit_tar_layer")
load("//oci/private/actions:layout.bzl", "emit_layout", "emit_layout_import")
load("//oci/private/actions:sbom.bzl", "emit_image_sbom")
load("//oci/private/actions:tarball.bzl", "default_repo_tag", "emit_docker_tarball")
load("//oci/private/providers:oci_image_contents_info.bzl", "OciImageContentsInfo")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_layer_info.bzl", "OciLayerInfo")
load("//oci/private/providers:oci_layout_origin_info.bzl", "OciLayoutOriginInfo")
load("//platforms:platforms.bzl", "TARGET_PLATFORM_ATTRS", "target_platform")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")
load(":stamp.bzl", "STAMP_ATTRS", "should_stamp", "stamp_status")

def _base(ctx, platform):
    """Returns (config File or None, [OciLayerInfo], [extern layers], [struct(name, descriptor)]) of the base image.

    The last is the base by digest, as the image's provenance names it.
    """
    if not ctx.attr.base:
        return None, [], [], []
    name = label_text(ctx.attr.base.label)
    if OciImageInfo in ctx.attr.base:
        b = ctx.attr.base[OciImageInfo]
        return b.config, b.layers, b.extern_layers, [struct(name = name, descriptor = b.descriptor)]
    dirs = [f for f in ctx.attr.base[DefaultInfo].files.to_list() if f.is_directory]
    if len(dirs) != 1:
        fail("{}: base {} is neither an image of this rule set nor one OCI layout directory".format(ctx.label, ctx.attr.base.label))
    origin = ctx.attr.base[OciLayoutOriginInfo] if OciLayoutOriginInfo in ctx.attr.base else None
    shallow = bool(origin and origin.shallow)
    imported = emit_layout_import(ctx, layout = dirs[0], os = ctx.attr.os, arch = platform.arch, variant = platform.variant, shallow = shallow)
    return imported.config, [], [struct(
        layers = imported.layers,
        dir = dirs[0],
        # Where push may find these blobs besides `dir`: the registry and the downloaded files.
        origin = origin.repository if origin else "",
        root = origin.root if origin else "",
        # `dir` holds none of these blobs: oci_load's run script fetches them from `origin`.
        shallow = shallow,
    )], [struct(name = origin.repository if origin else name, descriptor = imported.descriptor)]

def _tar_layers(ctx):
    """One layer per file of `tars`."""
    compression = ctx.attr._compression[BuildSettingInfo].value
    level = ctx.attr._compression_level[BuildSettingInfo].value
    return [
        emit_tar_layer(ctx, tar = tar, index = i, compression = compression, level = level)
        for i, tar in enumerate(ctx.files.tars)
    ]

def _labels(ctx, contents):
    if any([c.annotations_as_labels for c in contents]):
        return ctx.attr.annotations | ctx.attr.labels
    return ctx.attr.labels

def _sbom(ctx, contents, layers):
    """The image's SBOM: struct(spdx, cyclonedx), or None.

    Written when the contents list packages (the first such contents writes it) or a layer
    has an SBOM part.
    """
    parts = [c.sbom for c in contents if c.sbom]
    if parts:
        return parts[0].emit(ctx, parts, layers)
    if [layer for layer in layers if getattr(layer, "sbom", None)]:
        return emit_image_sbom(ctx, layers = layers)
    return None

def _attestations(ctx, out, sbom, layers, contents, bases):
    """The image's unsigned in-toto statements: its SBOMs' and its provenance.

    Only built when asked for (output group `attestations`, a push that attaches them).
    """
    locks = [lock for c in contents for lock in getattr(c, "locks", [])]
    statements = emit_sbom_statements(ctx, descriptor = out.descriptor, sbom = sbom) if sbom else struct(spdx = None, cyclonedx = None)
    provenance = emit_provenance(
        ctx,
        descriptors = [out.descriptor],
        manifests = [out.manifest],
        layers = layers,
        locks = locks,
        bases = bases,
        # Stamped: the source revision, build label and time; unstamped the same bytes on
        # every machine and commit.
        status = [ctx.version_file, ctx.info_file] if should_stamp(ctx) else [],
    )
    return struct(spdx = statements.spdx, cyclonedx = statements.cyclonedx, provenance = provenance, locks = locks, bases = bases)

def _spec(ctx, platform, contents):
    """The image's own settings (`image --spec-json`)."""
    spec = {
        "os": ctx.attr.os,
        "architecture": platform.arch,
        "variant": platform.variant,
        "env": ctx.attr.env,
        "user": ctx.attr.user,
        "workdir": ctx.attr.workdir,
        "labels": _labels(ctx, contents),
        "annotations": ctx.attr.annotations,
        "exposed_ports": ctx.attr.exposed_ports,
        "volumes": ctx.attr.volumes,
        "stop_signal": ctx.attr.stop_signal,
        "created": ctx.attr.created,
    }
    if ctx.attr.entrypoint:
        spec["entrypoint"] = ctx.attr.entrypoint
    if ctx.attr.cmd:
        spec["cmd"] = ctx.attr.cmd
    return spec

def _oci_image_impl(ctx):
    platform = target_platform(ctx)
    base_config, base_layers, extern, bases = _base(ctx, platform)
    contents = [c[OciImageContentsInfo] for c in ctx.attr.contents]
    layers = [layer for c in contents for layer in c.layers] + [t[OciLayerInfo] for t in ctx.attr.layers] + _tar_layers(ctx)
    sbom = _sbom(ctx, contents, layers)
    spec = _spec(ctx, platform, contents)
    stampable = [ctx.attr.created] + spec["labels"].values() + spec["annotations"].values()
    out = emit_image(
        ctx,
        spec = spec,
        base_config = base_config,
        base_layers = base_layers,
        extern = extern,
        layers = layers,
        defaults = [f for c in contents for f in c.defaults],
        # Contents' inputs (e.g. signature records): no image exists before they are built.
        inputs = depset(transitive = [c.inputs for c in contents]),
        labels_files = ctx.files.labels_file,
        annotations_files = ctx.files.annotations_file,
        status = stamp_status(ctx, stampable, ctx.files.labels_file + ctx.files.annotations_file),
    )

    # Everything below sees the whole stack, base first.
    layers = base_layers + layers
    attestations = _attestations(ctx, out, sbom, layers, contents, bases)
    layout = emit_layout(
        ctx,
        descriptor = out.descriptor,
        blobs = [out.manifest, out.config],
        layers = layers,
        extern_layers = extern,
        ref_name = ctx.attr.ref_name,
    )
    info = OciImageInfo(
        manifest = out.manifest,
        config = out.config,
        descriptor = out.descriptor,
        digest = out.digest,
        layout = layout,
        layers = layers,
        extern_layers = extern,
        os = ctx.attr.os,
        architecture = platform.arch,
        variant = platform.variant,
        sbom = sbom.spdx if sbom else None,
        attestations = attestations,
    )
    tarball = emit_docker_tarball(ctx, info, default_repo_tag(ctx.label))
    files = emit_files(ctx, layers = layers, extern_layers = extern, base = ctx.attr.base.label if ctx.attr.base else None)
    return [
        # Not the layout: it repeats every blob (a tree artifact Bazel copies and digests),
        # and most builds need only the manifest. Push, load and `--output_groups=+layout`
        # build it when asked.
        DefaultInfo(files = depset([out.manifest, out.config, out.digest])),
        info,
        OutputGroupInfo(
            sbom = depset([sbom.spdx] if sbom else []),
            sbom_cyclonedx = depset([sbom.cyclonedx] if sbom else []),
            tarball = depset([tarball]),
            files = depset([files]),
            layout = depset([layout]),
            digest = depset([out.digest]),
            metadata = depset([out.manifest, out.config, out.descriptor, out.digest]),
            attestations = depset([f for f in [attestations.spdx, attestations.cyclonedx, attestations.provenance] if f]),
        ),
    ]

_attrs = {
    "base": attr.label(
        doc = "The image to build on: an `oci_image`, or an OCI layout directory (e.g. rules_oci's `oci_image` or `oci_pull` output; the image for the target platform is picked from it, reading only its index, manifest and config). Its layers come first and its config is the starting point (env is merged, with `$VAR` expanded against the base's; entrypoint, cmd, user, workdir, stop signal are kept unless set here; labels, ports and volumes are merged).",
        allow_files = True,
    ),
    "contents": attr.label_list(
        doc = "What other rules contribute to the image (`OciImageContentsInfo`, e.g. `apk_image_contents`, or what `apks` makes): layers above the base and below `layers`, in the order given; image config defaults under this rule's attributes; inputs the image waits for; the packages its SBOM lists.",
        providers = [OciImageContentsInfo],
    ),
    "layers": attr.label_list(doc = "Layers on top of the base and `contents`, bottom first (`oci_layer` or anything providing OciLayerInfo).", providers = [OciLayerInfo]),
    "tars": attr.label_list(
        doc = """Archives (.tar, .tar.gz, .tgz, .tar.zst), one layer each, above `layers`, in order:
rules_oci's `oci_image(tars = ...)`, e.g. from rules_pkg's `pkg_tar`. An archive that is a
valid layer is used as it is, not re-packed: a compressed one is the layer blob byte for byte
(whatever the compression setting), a plain one is compressed per
`@rules_wharf//oci/settings:compression`; its entries keep their owners, names, modes and
mtimes. Valid means every entry passes `oci_layer`'s checks (no `..`, nothing written through a
symlink or below a file, one entry per path, hard links to earlier files); an archive that
fails one is an error naming it and the entry. An archive with a global PAX header
(`git archive`) is re-packed without it, as `oci_layer(tars = ...)` does.""",
        allow_files = [".tar", ".tar.gz", ".tgz", ".tar.zst"],
    ),
    "_compression": attr.label(default = "//oci/settings:compression"),
    "_compression_level": attr.label(default = "//oci/settings:compression_level"),
    "entrypoint": attr.string_list(doc = "Config `Entrypoint`."),
    "cmd": attr.string_list(doc = "Config `Cmd`."),
    "env": attr.string_dict(doc = "Config `Env`, as a dict (written sorted by name)."),
    "user": attr.string(doc = "Config `User` (`uid`, `uid:gid` or a name known to the image)."),
    "workdir": attr.string(doc = "Config `WorkingDir`."),
    "labels": attr.string_dict(doc = "Config `Labels`. When stamping, `{KEY}` in a value is the key's workspace status value (see above)."),
    "labels_file": attr.label(doc = "A file of `KEY=VALUE` labels, one a line (`#` comments and blank lines skipped), under `labels`; stamped the same way.", allow_single_file = True),
    "annotations": attr.string_dict(doc = "Manifest annotations, stamped as `labels`."),
    "annotations_file": attr.label(doc = "A file of `KEY=VALUE` annotations under `annotations`, as `labels_file`.", allow_single_file = True),
    "exposed_ports": attr.string_list(doc = "Config `ExposedPorts` (`8080`, `8080/tcp`, `53/udp`)."),
    "volumes": attr.string_list(doc = "Config `Volumes`."),
    "stop_signal": attr.string(doc = "Config `StopSignal`."),
    "created": attr.string(doc = "Config `created` (RFC 3339). Default: 1970-01-01T00:00:00Z, so the digest does not depend on when it was built. `{BUILD_TIMESTAMP}` (or any key whose value is whole seconds since the epoch) is that time in RFC 3339 when stamping, and the default when not."),
    "os": attr.string(doc = "Image OS.", default = "linux"),
    "ref_name": attr.string(doc = "The `org.opencontainers.image.ref.name` annotation of the image in the layout's index.json (what skopeo/umoci/podman call the tag, as in `oci:DIR:latest`).", default = "latest"),
} | TARGET_PLATFORM_ATTRS | STAMP_ATTRS

_DOC = """A single-platform image: the base's layers, then the layers of `contents`, then
`layers`, then one layer per archive of `tars`, with a config from the attributes (over the contents' defaults, over the base's).
os/architecture come from the target platform. The manifest action reads only layer metadata;
the blobs are needed only by the actions that copy them (layout, tarball).

`oci_image` (this rule, plus `apks`, `apk_layer_budget` and `apko_config`, which become a
contents target made by the lock's packages) is what BUILD files normally use.

Default outputs: `<name>.manifest.json`, `<name>.config.json` and `<name>.digest`. The OCI
layout directory `<name>/` (index.json with one entry annotated
`org.opencontainers.image.ref.name`) is the output group `layout` (`bazel build :image
--output_groups=+layout`, or a `filegroup(srcs = [":image"], output_group = "layout")`);
`oci_push` builds it itself. Output groups `sbom` (`<name>.spdx.json`, SPDX 2.3) and
`sbom_cyclonedx` (`<name>.cdx.json`, CycloneDX 1.6), when contents list packages or a layer
lists files (see docs/sbom.md),
`tarball` (docker/podman load), `digest` and `metadata` are built only when asked for, too,
and so is `files`: `<name>.files.json`, every path of the image's filesystem with the layer,
APK package or label that put it there and the earlier entries it replaced, from the layers'
metadata (see docs/explain.md; `bazel run :<name>.explain -- PATH` asks about one path).

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_image_rule")

# No packages: on an image pulled by digest (oci.pull(name = "distroless", ...)).
oci_image_rule(
    name = "image",
    base = "@distroless",
    layers = [":app_layer"],
    tars = [":assets"],  # e.g. rules_pkg's pkg_tar
    entrypoint = ["/usr/bin/server"],
    exposed_ports = ["8080/tcp"],
)
```

Stamping: with `--stamp` (or `stamp = 1`), `{KEY}` in `labels`, `annotations`, the lines of
`labels_file`/`annotations_file` and `created` is replaced by the key's value in Bazel's
workspace status (`{BUILD_TIMESTAMP}`, `{BUILD_EMBED_LABEL}` from `--embed_label`,
`{STABLE_GIT_COMMIT}` and other keys from `--workspace_status_command`), as `oci_push` does
for tags; a key the status lacks fails the build naming the label or annotation and the key.
Only the image's manifest action reads the status, and only when a value holds `{`. Without
stamping, labels and annotations keep `{KEY}` as written and `created` is the epoch, so the
digest is the same on every machine and commit (rules_oci leaves stamp placeholders
unexpanded in unstamped builds, too).

```starlark
# bazel build --stamp --workspace_status_command=tools/status.sh //app:image
oci_image_rule(
    name = "stamped",
    base = "@distroless",
    labels = {"org.opencontainers.image.revision": "{STABLE_GIT_COMMIT}"},
    labels_file = ":labels.txt",  # org.opencontainers.image.version={BUILD_EMBED_LABEL}
    created = "{BUILD_TIMESTAMP}",
)
```
"""

oci_image_rule = rule(
    implementation = _oci_image_impl,
    doc = _DOC,
    attrs = _attrs,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
