"""oci_image: an image from APK packages and layers, as an OCI layout."""

load("//apk:providers.bzl", "ApkPackagesInfo")
load("//oci/private/common:layer_args.bzl", "extern_arg", "layer_arg")
load("//oci/private/common:tarball.bzl", "default_repo_tag", "docker_tarball")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_layer_info.bzl", "OciLayerInfo")
load("//tools/toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE", "WHARF_WORKER_REQUIREMENTS", "wharf_tool", "wharf_worker_args")

# Target CPU constraint -> (OCI architecture, variant, APK architecture).
_ARCHS = [
    ("_x86_64", "amd64", "", "x86_64"),
    ("_aarch64", "arm64", "v8", "aarch64"),
    ("_armv7", "arm", "v7", "armv7"),
    ("_ppc64le", "ppc64le", "", "ppc64le"),
    ("_s390x", "s390x", "", "s390x"),
    ("_riscv64", "riscv64", "", "riscv64"),
]

def _platform(ctx):
    for attr, arch, variant, apk_arch in _ARCHS:
        if ctx.target_platform_has_constraint(getattr(ctx.attr, attr)[platform_common.ConstraintValueInfo]):
            return arch, variant, apk_arch
    fail("{}: the target platform's CPU is not one rules_wharf knows an OCI architecture for".format(ctx.label))

def _group_packages(packages, max_layers):
    """Splits packages (lock order) into at most max_layers contiguous runs of similar size.

    Contiguous, so that a package stays above every package installed before it: whoever
    wins a replaced file in apk wins it in the layers too.
    """
    if max_layers <= 0 or len(packages) <= max_layers:
        return [[p] for p in packages]
    sizes = [max(p.data_size, 1) for p in packages]
    remaining = 0
    for s in sizes:
        remaining += s
    groups = []
    current = []
    acc = 0
    for i, p in enumerate(packages):
        current.append(p)
        acc += sizes[i]
        left_groups = max_layers - len(groups) - 1
        left_packages = len(packages) - i - 1
        target = remaining // (left_groups + 1)
        if left_groups > 0 and (acc >= target or left_packages == left_groups):
            groups.append(current)
            remaining -= acc
            current = []
            acc = 0
    if current:
        groups.append(current)
    return groups

def _apk_layers(ctx, packages):
    """One layer per package, or merged contiguous groups within apk_layer_budget."""
    budget = ctx.attr.apk_layer_budget
    if budget == 1:
        fail("{}: apk_layer_budget must be 0 (no limit) or at least 2 (packages + the apk database)".format(ctx.label))
    layers = []
    for i, group in enumerate(_group_packages(packages, budget - 1 if budget else 0)):
        if len(group) == 1:
            layers.append(group[0].layer)
            continue
        blob = ctx.actions.declare_file("{}.apk_group{}.tar.gz".format(ctx.label.name, i))
        meta = ctx.actions.declare_file("{}.apk_group{}.layer.json".format(ctx.label.name, i))
        args = wharf_worker_args(ctx)
        args.add("merge-layers")
        args.add_all([p.layer for p in group], map_each = layer_arg, before_each = "--layer")
        args.add_all([p.facts for p in group], before_each = "--facts")
        args.add("--created-by", "apk " + " ".join(["{}-{}".format(p.package_name, p.version) for p in group]))
        args.add("--blob", blob)
        args.add("--metadata", meta)
        ctx.actions.run(
            executable = wharf_tool(ctx),
            arguments = [args],
            inputs = [p.layer.blob for p in group] + [p.layer.metadata for p in group] + [p.facts for p in group],
            outputs = [blob, meta],
            mnemonic = "ApkLayerGroup",
            execution_requirements = WHARF_WORKER_REQUIREMENTS,
            progress_message = "Merging {} packages into one layer for %{{label}}".format(len(group)),
            toolchain = WHARF_TOOLCHAIN_TYPE,
        )
        layers.append(OciLayerInfo(blob = blob, metadata = meta))
    return layers

def _apko_layer(ctx, pkgs, apk_arch):
    """The layer of apko_config's accounts and paths, and the file with the resolved run-as user."""
    blob = ctx.actions.declare_file(ctx.label.name + ".apko.tar.gz")
    meta = ctx.actions.declare_file(ctx.label.name + ".apko.layer.json")
    user = ctx.actions.declare_file(ctx.label.name + ".apko.user")
    args = wharf_worker_args(ctx)
    args.add("apko-layer")
    args.add("--config", ctx.file.apko_config)
    args.add("--database", pkgs.database.blob)
    args.add("--arch", apk_arch)
    args.add_all([p.facts for p in pkgs.packages], before_each = "--facts")
    args.add_all([p.layer.blob for p in pkgs.packages], before_each = "--data")
    args.add("--blob", blob)
    args.add("--metadata", meta)
    args.add("--user", user)
    ctx.actions.run(
        executable = wharf_tool(ctx),
        arguments = [args],
        # Facts describe every package's files; the data layers are read only for the few
        # files the layer restates (/etc/passwd, /etc/group, files `paths` changes); the small
        # database layer is listed (its files, devices and symlinks are part of the rootfs).
        inputs = [ctx.file.apko_config, pkgs.database.blob] + [p.facts for p in pkgs.packages] + [p.layer.blob for p in pkgs.packages],
        outputs = [blob, meta, user],
        mnemonic = "ApkoLayer",
        execution_requirements = WHARF_WORKER_REQUIREMENTS,
        progress_message = "Writing accounts and paths of %{label}",
        toolchain = WHARF_TOOLCHAIN_TYPE,
    )
    return OciLayerInfo(blob = blob, metadata = meta), user

def _base(ctx, arch, variant):
    """Returns (config File or None, [OciLayerInfo], [extern layers]) of the base image."""
    if not ctx.attr.base:
        return None, [], []
    if OciImageInfo in ctx.attr.base:
        b = ctx.attr.base[OciImageInfo]
        return b.config, b.layers, b.extern_layers
    dirs = [f for f in ctx.attr.base[DefaultInfo].files.to_list() if f.is_directory]
    if len(dirs) != 1:
        fail("{}: base {} is neither an image of this rule set nor one OCI layout directory".format(ctx.label, ctx.attr.base.label))
    config = ctx.actions.declare_file(ctx.label.name + ".base.config.json")
    layers = ctx.actions.declare_file(ctx.label.name + ".base.layers.json")
    args = ctx.actions.args()
    args.add("layout-import")
    args.add("--layout", dirs[0].path)
    args.add("--os", ctx.attr.os)
    args.add("--arch", arch)
    if variant:
        args.add("--variant", variant)
    args.add("--config", config)
    args.add("--layers", layers)
    ctx.actions.run(
        executable = wharf_tool(ctx),
        arguments = [args],
        inputs = dirs,
        outputs = [config, layers],
        mnemonic = "OciLayoutImport",
        progress_message = "Reading base image layout for %{label}",
        toolchain = WHARF_TOOLCHAIN_TYPE,
    )
    return config, [], [struct(layers = layers, dir = dirs[0])]

def _oci_image_impl(ctx):
    arch, variant, apk_arch = _platform(ctx)
    base_config, base_layers, extern = _base(ctx, arch, variant)
    layers = []
    verifications = []
    sbom = None
    apko_user = None
    if ctx.attr.apks:
        pkgs = ctx.attr.apks[ApkPackagesInfo]
        if pkgs.arch != apk_arch:
            fail("{}: apks {} are for {}, but the target platform is {}".format(ctx.label, ctx.attr.apks.label, pkgs.arch, apk_arch))
        layers += _apk_layers(ctx, pkgs.packages) + [pkgs.database]
        if ctx.file.apko_config:
            apko_layer, apko_user = _apko_layer(ctx, pkgs, apk_arch)
            layers.append(apko_layer)
        verifications.append(pkgs.verifications)
        sbom = ctx.actions.declare_file(ctx.label.name + ".spdx.json")
        sargs = wharf_worker_args(ctx)
        sargs.add("sbom")
        sargs.add("--name", "//{}:{}".format(ctx.label.package, ctx.label.name) if not ctx.label.workspace_name else str(ctx.label))
        if pkgs.distro:
            sargs.add("--distro", pkgs.distro)
        sargs.add_all([p.facts for p in pkgs.packages], before_each = "--package")
        sargs.add_all([p.url for p in pkgs.packages], before_each = "--url")
        sargs.add("--out", sbom)
        ctx.actions.run(
            executable = wharf_tool(ctx),
            arguments = [sargs],
            inputs = [p.facts for p in pkgs.packages],
            outputs = [sbom],
            mnemonic = "Sbom",
            execution_requirements = WHARF_WORKER_REQUIREMENTS,
            progress_message = "Writing SBOM for %{label}",
            toolchain = WHARF_TOOLCHAIN_TYPE,
        )
    elif ctx.file.apko_config:
        fail("{}: apko_config needs apks (the packages the configuration's accounts and paths apply to)".format(ctx.label))
    layers += [t[OciLayerInfo] for t in ctx.attr.layers]

    spec = {
        "os": ctx.attr.os,
        "architecture": arch,
        "variant": variant,
        "env": ctx.attr.env,
        "user": ctx.attr.user,
        "workdir": ctx.attr.workdir,
        "labels": ctx.attr.labels,
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
    spec_file = ctx.actions.declare_file(ctx.label.name + ".spec.json")
    ctx.actions.write(spec_file, json.encode(spec))

    prefix = ctx.label.name
    config = ctx.actions.declare_file(prefix + ".config.json")
    manifest = ctx.actions.declare_file(prefix + ".manifest.json")
    digest = ctx.actions.declare_file(prefix + ".digest")
    descriptor = ctx.actions.declare_file(prefix + ".descriptor.json")

    # Metadata only: no layer blob is an input of the image action.
    args = wharf_worker_args(ctx)
    args.add("image")
    args.add("--spec", spec_file)
    if base_config:
        args.add("--base-config", base_config)
        args.add_all(extern, map_each = extern_arg, before_each = "--base-extern")
        args.add_all([layer.metadata for layer in base_layers], before_each = "--base-layer")
    args.add_all([layer.metadata for layer in layers], before_each = "--layer")
    apko_inputs = []
    if ctx.file.apko_config:
        args.add("--apko-config", ctx.file.apko_config)
        args.add("--apko-user", apko_user)
        args.add("--apk-arch", apk_arch)
        args.add("--apk-layer-budget", str(ctx.attr.apk_layer_budget))
        apko_inputs = [ctx.file.apko_config, apko_user]
    args.add("--config", config)
    args.add("--manifest", manifest)
    args.add("--digest", digest)
    args.add("--descriptor", descriptor)
    ctx.actions.run(
        executable = wharf_tool(ctx),
        arguments = [args],
        # Signature records are inputs so that no image exists before its packages verified.
        inputs = depset(
            # The layer lists of an imported layout, not the layout itself.
            [spec_file] + [layer.metadata for layer in base_layers + layers] +
            ([base_config] if base_config else []) + [e.layers for e in extern] + apko_inputs,
            transitive = verifications,
        ),
        outputs = [config, manifest, digest, descriptor],
        mnemonic = "OciImage",
        execution_requirements = WHARF_WORKER_REQUIREMENTS,
        progress_message = "Writing image manifest %{label}",
        toolchain = WHARF_TOOLCHAIN_TYPE,
    )

    # Everything below sees the whole stack, base first.
    layers = base_layers + layers
    layout = ctx.actions.declare_directory(prefix)
    largs = ctx.actions.args()
    largs.add("layout")
    largs.add("--descriptor", descriptor)
    largs.add("--blob", manifest)
    largs.add("--blob", config)
    largs.add_all(extern, map_each = extern_arg, before_each = "--extern")
    largs.add_all(layers, map_each = layer_arg, before_each = "--layer")
    largs.add("--ref-name", ctx.attr.ref_name)
    largs.add("--out", layout.path)
    ctx.actions.run(
        executable = wharf_tool(ctx),
        arguments = [largs],
        inputs = [descriptor, manifest, config] + [layer.blob for layer in layers] + [layer.metadata for layer in layers] +
                 [f for e in extern for f in [e.layers, e.dir]],
        outputs = [layout],
        mnemonic = "OciLayout",
        progress_message = "Assembling OCI layout %{label}",
        toolchain = WHARF_TOOLCHAIN_TYPE,
    )

    info = OciImageInfo(
        manifest = manifest,
        config = config,
        descriptor = descriptor,
        digest = digest,
        layout = layout,
        layers = layers,
        extern_layers = extern,
        os = ctx.attr.os,
        architecture = arch,
        variant = variant,
        sbom = sbom,
    )
    tarball = ctx.actions.declare_file(prefix + ".tar")
    docker_tarball(ctx, info, default_repo_tag(ctx.label), tarball)

    return [
        # Not the layout: it repeats every blob (a tree artifact Bazel copies and digests),
        # and most builds need only the manifest. Push, load and `--output_groups=+layout`
        # build it when asked.
        DefaultInfo(files = depset([manifest, config, digest])),
        info,
        OutputGroupInfo(
            sbom = depset([sbom] if sbom else []),
            tarball = depset([tarball]),
            layout = depset([layout]),
            digest = depset([digest]),
            metadata = depset([manifest, config, descriptor, digest]),
        ),
    ]

_attrs = {
    "base": attr.label(
        doc = "The image to build on: an `oci_image`, or an OCI layout directory (e.g. rules_oci's `oci_image` or `oci_pull` output; the image for the target platform is picked from it, reading only its index, manifest and config). Its layers come first and its config is the starting point (env is merged, with `$VAR` expanded against the base's; entrypoint, cmd, user, workdir, stop signal are kept unless set here; labels, ports and volumes are merged).",
        allow_files = True,
    ),
    "apks": attr.label(
        doc = "Packages from a lock: the hub repository of `apk.translate_lock` (e.g. `@base`, which selects the target CPU's packages) or one of its per-architecture targets. Each package's data member is one layer, in lock order, below `layers`.",
        providers = [ApkPackagesInfo],
    ),
    "apk_layer_budget": attr.int(
        doc = "Most layers the APK packages may take, the apk database layer included (containerd and overlayfs allow about 127 in all). 0: one layer per package, each the package's own data member with no recompression. Otherwise packages are joined into contiguous runs in lock order, balanced by size; a run of one package stays zero-copy, a longer run is spliced rather than recompressed: each package's compressed blocks are copied as they are, and only blocks holding an entry left out (a directory an earlier package in the run has, a file a later one replaces) or the package's tar end-of-archive are encoded again.",
        default = 0,
    ),
    "apko_config": attr.label(
        doc = """An apko image configuration (`apko.yaml`, apko v0.30.34's format) to take the image from, as `apko build` would; needs `apks` (normally the lock made from the same file).
Its `accounts` and `paths` become one layer above the packages and the apk database and below `layers`, with `/etc/passwd` and `/etc/group` as apko writes them (the packages' files plus the configured users and groups; `/etc/passwd` always, `/etc/group` when groups are configured) and the missing home directories.
`entrypoint` (`command` split like a shell, or `shell-fragment` run by `/bin/sh -c`), `cmd`, `environment` (plus apko's default `PATH` and `SSL_CERT_FILE`), `work-dir`, `accounts.run-as` (a user name becomes its uid), `annotations` (also config labels, as apko does; `vcs-url` is ignored: apko puts it on the index only), `volumes` and `stop-signal` make the image config.
Precedence: an attribute of this rule that is set wins (`entrypoint`, `cmd`, `user`, `workdir`, `stop_signal`); `env`, `annotations` and `labels` are merged key by key with this rule's values winning; `volumes` are the union.
`archs`, when given, must list the target platform's architecture; `layering` must be `{strategy: origin, budget: N}` with `apk_layer_budget = N` set here too (Bazel cannot read the file when it plans the layers). `contents` is the lock's business (`apk_lock`); `include`, `contents.baseimage`, `certificates` and service-bundle entrypoints are errors. See docs/apk-install.md for what differs from apko.""",
        allow_single_file = [".yaml", ".yml"],
    ),
    "layers": attr.label_list(doc = "Layers on top of the packages, bottom first (`oci_layer` or anything providing OciLayerInfo).", providers = [OciLayerInfo]),
    "entrypoint": attr.string_list(doc = "Config `Entrypoint`."),
    "cmd": attr.string_list(doc = "Config `Cmd`."),
    "env": attr.string_dict(doc = "Config `Env`, as a dict (written sorted by name)."),
    "user": attr.string(doc = "Config `User` (`uid`, `uid:gid` or a name known to the image)."),
    "workdir": attr.string(doc = "Config `WorkingDir`."),
    "labels": attr.string_dict(doc = "Config `Labels`."),
    "annotations": attr.string_dict(doc = "Manifest annotations."),
    "exposed_ports": attr.string_list(doc = "Config `ExposedPorts` (`8080`, `8080/tcp`, `53/udp`)."),
    "volumes": attr.string_list(doc = "Config `Volumes`."),
    "stop_signal": attr.string(doc = "Config `StopSignal`."),
    "created": attr.string(doc = "Config `created` (RFC 3339). Default: 1970-01-01T00:00:00Z, so the digest does not depend on when it was built."),
    "os": attr.string(doc = "Image OS.", default = "linux"),
    "ref_name": attr.string(doc = "The `org.opencontainers.image.ref.name` annotation of the image in the layout's index.json (what skopeo/umoci/podman call the tag, as in `oci:DIR:latest`).", default = "latest"),
} | {
    a[0]: attr.label(default = "@platforms//cpu:" + a[3])
    for a in _ARCHS
}

oci_image = rule(
    implementation = _oci_image_impl,
    doc = """A single-platform image from APK packages and layers. Outputs an OCI image layout
directory (index.json with one entry annotated `org.opencontainers.image.ref.name`) and
`<name>.digest`. The manifest action reads only layer metadata; the layout is assembled
by a separate action. os/architecture come from the target platform.

Default outputs: `<name>.manifest.json`, `<name>.config.json` and `<name>.digest`. The OCI
layout directory `<name>/` is the output group `layout` (`bazel build :image
--output_groups=+layout`, or a `filegroup(srcs = [":image"], output_group = "layout")`);
`oci_push` builds it itself. Output groups `sbom` (SPDX 2.3) and `tarball` (docker/podman
load) are built only when asked for, too.""",
    attrs = _attrs,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
