"""apk_image_contents: a lock's packages (and an apko.yaml) as contents of an `oci_image`."""

load("//apk/private:grouping.bzl", "group_packages")
load("//apk/private/providers:apk_packages_info.bzl", "ApkPackagesInfo")
load("//oci:providers.bzl", "OciImageContentsInfo", "OciLayerInfo")
load("//platforms:platforms.bzl", "TARGET_PLATFORM_ATTRS", "target_platform")
load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:layer_args.bzl", "layer_arg")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _apk_layers(ctx, packages):
    """One layer per package, or merged contiguous groups within apk_layer_budget."""
    budget = ctx.attr.apk_layer_budget
    if budget == 1:
        fail("{}: apk_layer_budget must be 0 (no limit) or at least 2 (packages + the apk database)".format(ctx.label))
    layers = []
    for i, group in enumerate(group_packages(packages, budget - 1 if budget else 0)):
        if len(group) == 1:
            layers.append(group[0].layer)
            continue
        blob = ctx.actions.declare_file("{}.apk_group{}.tar.gz".format(ctx.label.name, i))
        meta = ctx.actions.declare_file("{}.apk_group{}.layer.json".format(ctx.label.name, i))
        args = ctx.actions.args()
        args.add_all([p.layer for p in group], map_each = layer_arg, before_each = "--layer")
        args.add_all([p.facts for p in group], before_each = "--facts")
        args.add("--created-by", "apk " + " ".join(["{}-{}".format(p.package_name, p.version) for p in group]))
        args.add("--blob", blob)
        args.add("--metadata", meta)
        wharf_action(
            ctx,
            "merge-layers",
            args,
            inputs = [p.layer.blob for p in group] + [p.layer.metadata for p in group] + [p.facts for p in group],
            outputs = [blob, meta],
            mnemonic = "ApkLayerGroup",
            progress_message = "Merging {} packages into one layer for %{{label}}".format(len(group)),
            worker = True,
        )
        layers.append(OciLayerInfo(blob = blob, metadata = meta))
    return layers

def _apko_layer(ctx, pkgs, apk_arch):
    """The layer of apko_config's accounts and paths, and the file with the resolved run-as user."""
    blob = ctx.actions.declare_file(ctx.label.name + ".apko.tar.gz")
    meta = ctx.actions.declare_file(ctx.label.name + ".apko.layer.json")
    user = ctx.actions.declare_file(ctx.label.name + ".apko.user")
    args = ctx.actions.args()
    args.add("--config", ctx.file.apko_config)
    args.add("--database", pkgs.database.blob)
    args.add("--arch", apk_arch)
    args.add_all([p.facts for p in pkgs.packages], before_each = "--facts")
    args.add_all([p.layer.blob for p in pkgs.packages], before_each = "--data")
    args.add("--blob", blob)
    args.add("--metadata", meta)
    args.add("--user", user)
    wharf_action(
        ctx,
        "apko-layer",
        args,
        # Facts describe every package's files; the data layers are read only for the few
        # files the layer restates (/etc/passwd, /etc/group, files `paths` changes); the small
        # database layer is listed (its files, devices and symlinks are part of the rootfs).
        inputs = [ctx.file.apko_config, pkgs.database.blob] + [p.facts for p in pkgs.packages] + [p.layer.blob for p in pkgs.packages],
        outputs = [blob, meta, user],
        mnemonic = "ApkoLayer",
        progress_message = "Writing accounts and paths of %{label}",
        worker = True,
    )
    return OciLayerInfo(blob = blob, metadata = meta), user

def _apko_image_config(ctx, apk_arch, user):
    """The image config defaults of apko_config (`image --defaults`), for the target architecture."""
    out = ctx.actions.declare_file(ctx.label.name + ".apko.defaults.json")
    args = ctx.actions.args()
    args.add("--config", ctx.file.apko_config)
    args.add("--arch", apk_arch)
    args.add("--apk-layer-budget", str(ctx.attr.apk_layer_budget))
    args.add("--user", user)
    if ctx.attr.created:
        args.add("--created", ctx.attr.created)
    args.add("--out", out)
    wharf_action(
        ctx,
        "apko-image-config",
        args,
        inputs = [ctx.file.apko_config, user],
        outputs = [out],
        mnemonic = "ApkoImageConfig",
        progress_message = "Reading the image config of %{label}",
        worker = True,
    )
    return out

def _apk_image_contents_impl(ctx):
    apk_arch = target_platform(ctx).apk_arch
    pkgs = ctx.attr.apks[ApkPackagesInfo]
    if pkgs.arch != apk_arch:
        fail("{}: apks {} are for {}, but the target platform is {}".format(ctx.label, ctx.attr.apks.label, pkgs.arch, apk_arch))
    layers = _apk_layers(ctx, pkgs.packages) + [pkgs.database]
    defaults = []
    if ctx.file.apko_config:
        apko_layer, apko_user = _apko_layer(ctx, pkgs, apk_arch)
        layers.append(apko_layer)
        defaults.append(_apko_image_config(ctx, apk_arch, apko_user))
    return [
        OciImageContentsInfo(
            layers = layers,
            defaults = defaults,
            # apko makes the configuration's annotations config labels; the image's own
            # annotations join them.
            annotations_as_labels = bool(ctx.file.apko_config),
            # Signature records: no image exists before its packages verified.
            inputs = pkgs.verifications,
            sbom = struct(packages = pkgs.packages, distro = pkgs.distro),
        ),
    ]

apk_image_contents = rule(
    implementation = _apk_image_contents_impl,
    doc = """The contents an image takes from a lock (`OciImageContentsInfo`, for `oci_image`'s
`contents`): each package's data member as a layer in lock order (or contiguous runs within
`apk_layer_budget`), the apk database layer, and with `apko_config` a layer of its accounts
and paths plus its image config as defaults under the image's attributes; the packages for
the image's SBOM; the packages' signature verification records. `oci_image(apks = ...)` and
`apko_image` make one; the packages must be for the target platform's architecture.""",
    attrs = {
        "apks": attr.label(
            doc = "Packages from a lock: the hub repository of `apk.translate_lock` (e.g. `@base`, which selects the target CPU's packages) or one of its per-architecture targets.",
            mandatory = True,
            providers = [ApkPackagesInfo],
        ),
        "apk_layer_budget": attr.int(
            doc = "Most layers the packages may take, the apk database layer included; 0: one layer per package. See `oci_image`.",
            default = 0,
        ),
        "apko_config": attr.label(
            doc = "An apko image configuration (`apko.yaml`) whose accounts, paths and image config apply. See `oci_image`.",
            allow_single_file = [".yaml", ".yml"],
        ),
        "created": attr.string(doc = "The image's `created` time (RFC 3339; empty: 1970-01-01T00:00:00Z), which apko annotates with `apko_config`."),
    } | TARGET_PLATFORM_ATTRS,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
