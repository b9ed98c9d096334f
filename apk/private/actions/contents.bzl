"""emit_apk_contents: a lock's packages (and an apko.yaml) as an image's contents, with the
emitters of its layers (`merge-layers`, `apko-layer`) and image config (`apko-image-config`)."""

load("//apk/private:grouping.bzl", "group_by_origin", "group_packages")
load("//apk/private/providers:apk_packages_info.bzl", "ApkPackagesInfo")
load("//oci:actions.bzl", "layer_action")
load("//oci:providers.bzl", "OciImageContentsInfo")
load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:layer_args.bzl", "layer_arg")
load(":sbom.bzl", "emit_sbom")

def emit_merge_layers(ctx, *, packages, index):
    """One layer of contiguous packages' layers, spliced (`<name>.apk_group<index>.tar.gz`).

    Args:
      ctx: the rule context (needs the wharf toolchain).
      packages: list of ApkPackageInfo, in lock order.
      index: the group's position, naming the outputs.

    Returns:
      OciLayerInfo.
    """
    args = ctx.actions.args()
    args.add_all([p.layer for p in packages], map_each = layer_arg, before_each = "--layer")
    args.add_all([p.facts for p in packages], before_each = "--facts")
    args.add("--created-by", "apk " + " ".join(["{}-{}".format(p.package_name, p.version) for p in packages]))
    return layer_action(
        ctx,
        "merge-layers",
        args,
        prefix = "{}.apk_group{}".format(ctx.label.name, index),
        inputs = [p.layer.blob for p in packages] + [p.layer.metadata for p in packages] + [p.facts for p in packages],
        mnemonic = "ApkLayerGroup",
        facts = [p.facts for p in packages],
        progress_message = "Merging {} packages into one layer for %{{label}}".format(len(packages)),
    )

def emit_apko_layer(ctx, *, config, packages, arch, config_files = []):
    """The layer of an apko.yaml's accounts and paths (`<name>.apko.tar.gz`).

    Args:
      ctx: the rule context (needs the wharf toolchain).
      config: File, the apko.yaml.
      packages: ApkPackagesInfo.
      arch: the APK architecture.
      config_files: Files the apko.yaml includes.

    Returns:
      struct(layer, user): OciLayerInfo, and the File with the resolved run-as user.
    """
    user = ctx.actions.declare_file(ctx.label.name + ".apko.user")
    pkgs = packages.packages
    args = ctx.actions.args()
    args.add("--config", config)
    args.add("--database", packages.database.blob)
    args.add("--arch", arch)
    args.add_all([p.facts for p in pkgs], before_each = "--facts")
    args.add_all([p.layer.blob for p in pkgs], before_each = "--data")
    layer = layer_action(
        ctx,
        "apko-layer",
        args,
        prefix = ctx.label.name + ".apko",
        extra_outputs = [("--user", user)],
        # Facts describe every package's files; the data layers are read only for the few
        # files the layer restates (/etc/passwd, /etc/group, files `paths` changes); the small
        # database layer is listed (its files, devices and symlinks are part of the rootfs).
        inputs = [config, packages.database.blob] + config_files + [p.facts for p in pkgs] + [p.layer.blob for p in pkgs],
        mnemonic = "ApkoLayer",
        progress_message = "Writing accounts and paths of %{label}",
    )
    return struct(layer = layer, user = user)

def emit_top_layer(ctx, *, layers):
    """Origin layering's top layer: the apk database layer and the apko.yaml's, stacked in one.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      layers: list of OciLayerInfo, bottom first.

    Returns:
      OciLayerInfo (`<name>.apk_top.tar.gz`).
    """
    args = ctx.actions.args()
    args.add("--stack")
    args.add_all(layers, map_each = layer_arg, before_each = "--layer")
    args.add("--created-by", "apk database and apko.yaml")
    return layer_action(
        ctx,
        "merge-layers",
        args,
        prefix = ctx.label.name + ".apk_top",
        inputs = [x.blob for x in layers] + [x.metadata for x in layers],
        mnemonic = "ApkTopLayer",
        progress_message = "Stacking the apk database and apko.yaml layers of %{label}",
    )

def emit_apko_image_config(ctx, *, config, arch, layer_budget, user, created, config_files = [], layering = ""):
    """The image config defaults of an apko.yaml (`image --defaults`), for one architecture.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      config: File, the apko.yaml.
      arch: the APK architecture.
      layer_budget: the image's apk_layer_budget (checked against the file's `layering`).
      user: File, the run-as user from emit_apko_layer.
      created: the image's `created` time, or empty.
      config_files: Files the apko.yaml includes.
      layering: the image's apk_layering (checked against the file's `layering.strategy`).

    Returns:
      File (`<name>.apko.defaults.json`).
    """
    out = ctx.actions.declare_file(ctx.label.name + ".apko.defaults.json")
    args = ctx.actions.args()
    args.add("--config", config)
    args.add("--arch", arch)
    args.add("--apk-layer-budget", str(layer_budget))
    if layering:
        args.add("--apk-layering", layering)
    args.add("--user", user)
    if created:
        args.add("--created", created)
    args.add("--out", out)
    wharf_action(
        ctx,
        "apko-image-config",
        args,
        inputs = [config, user] + config_files,
        outputs = [out],
        mnemonic = "ApkoImageConfig",
        progress_message = "Reading the image config of %{label}",
        worker = True,
    )
    return out

def _package_layers(ctx, packages, layer_budget, layering):
    """One layer per package, merged contiguous groups within the budget, or origin groups."""
    if layering == "origin":
        groups, err = group_by_origin(packages, layer_budget)
        if err:
            fail("{}: {}".format(ctx.label, err))
    elif layering:
        fail("{}: apk_layering is {}: only \"origin\" (apko's layering.strategy) or empty".format(ctx.label, repr(layering)))
    elif layer_budget == 1:
        fail("{}: apk_layer_budget must be 0 (no limit) or at least 2 (packages + the apk database)".format(ctx.label))
    else:
        groups = group_packages(packages, layer_budget - 1 if layer_budget else 0)
    return [
        g[0].layer if len(g) == 1 else emit_merge_layers(ctx, packages = g, index = i)
        for i, g in enumerate(groups)
    ]

def emit_apk_contents(ctx, apks, *, platform, layer_budget, config, created, config_files = [], layering = ""):
    """A lock's packages as an image's contents (`OciImageContentsSourceInfo.emit`).

    Each package's data member is a layer in lock order (or contiguous runs within
    `layer_budget`), then the apk database layer, and with `config` (an apko.yaml) a layer of
    its accounts and paths plus its image config as defaults; the image's SBOM lists the
    packages, and the image waits for their signature verification.

    Args:
      ctx: the context of the rule making the contents (wharf toolchain).
      apks: the Target providing ApkPackagesInfo (the lock's hub target).
      platform: the target platform's entry of PLATFORMS.
      layer_budget: the image's apk_layer_budget (0: one layer per package).
      config: File or None, the apko.yaml.
      created: the image's `created` time, or empty.
      config_files: Files the apko.yaml includes (`include:`), inputs of its actions.
      layering: "origin": the packages grouped as apko's `layering: {strategy: origin,
        budget: layer_budget}` groups them, then one top layer (the apk database and the
        apko.yaml's layer, stacked); empty: contiguous runs.

    Returns:
      OciImageContentsInfo.
    """
    apk_arch = platform.apk_arch
    pkgs = apks[ApkPackagesInfo]
    if pkgs.arch != apk_arch:
        fail("{}: apks {} are for {}, but the target platform is {}".format(ctx.label, apks.label, pkgs.arch, apk_arch))
    if config and not config.basename.endswith((".yaml", ".yml")):
        # oci_image_contents takes any file; apk_image_contents's attribute checks it too.
        fail("{}: apko_config {} is not a .yaml or .yml file".format(ctx.label, config.short_path))
    layers = _package_layers(ctx, pkgs.packages, layer_budget, layering)
    top = [pkgs.database]
    defaults = []
    if config:
        apko = emit_apko_layer(ctx, config = config, packages = pkgs, arch = apk_arch, config_files = config_files)
        top.append(apko.layer)
        defaults.append(emit_apko_image_config(ctx, config = config, arch = apk_arch, layer_budget = layer_budget, user = apko.user, created = created, config_files = config_files, layering = layering))

    # apko's top layer holds what no package owns: here the database and apko.yaml layers.
    layers += [emit_top_layer(ctx, layers = top)] if layering and len(top) > 1 else top
    return OciImageContentsInfo(
        layers = layers,
        defaults = defaults,
        # apko makes the configuration's annotations config labels; the image's own
        # annotations join them.
        annotations_as_labels = bool(config),
        # Signature records: no image exists before its packages verified.
        inputs = pkgs.verifications,
        locks = [pkgs.lock] if getattr(pkgs, "lock", None) else [],
        sbom = struct(packages = pkgs.packages, distro = pkgs.distro, emit = emit_sbom),
    )
