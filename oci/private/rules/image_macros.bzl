"""oci_image and apko_image: images whose contents include a lock's APK packages.

The image rule itself (`oci_image_rule`, image.bzl) knows only a base, contents and layers.
These macros give it `apks`, `apk_layer_budget` and `apko_config` by adding an
`oci_image_contents` target (`<name>_apk_contents`) to its `contents`: the lock's hub target
(`apks`) provides `OciImageContentsSourceInfo`, whose emitter (apk/) makes the package layers,
so nothing here loads apk/.
"""

load(":contents.bzl", "oci_image_contents")
load(":explain.bzl", "oci_image_explain")
load(":image.bzl", "oci_image_rule")
load(":load.bzl", "oci_load")
load(":shared_attrs.bzl", "shared_attrs")

def oci_image(name, apks = None, apk_layer_budget = 0, apk_layering = "", apko_config = None, apko_config_includes = [], contents = [], **kwargs):
    """A single-platform image from APK packages, a base and layers.

    Layers, bottom first: the base's (`base`), then with `apks` each package's data member
    (in lock order, or joined within `apk_layer_budget`), the apk database layer and, with
    `apko_config`, the layer of its accounts and paths; then `contents`, then `layers`, then
    one layer per archive of `tars` (as given when it is a valid layer: rules_oci's `tars`). The
    image config comes from the attributes, over `apko_config`'s, over the base's.

    Every other argument is an attribute of `oci_image_rule` (`base`, `layers`, `tars`,
    `entrypoint`, `cmd`, `env`, `user`, `workdir`, `labels`, `labels_file`, `annotations`,
    `annotations_file`, `exposed_ports`, `volumes`, `stop_signal`, `created`, `stamp`, `os`,
    `ref_name`; labels, annotations and created are stamped under `--stamp`) or a common
    attribute (`tags`, `visibility`, ...); outputs and output groups are `oci_image_rule`'s.
    `<name>.explain` is an `oci_image_explain` of the image: `bazel run :<name>.explain --
    /etc/os-release` says which layer, package or target put the path there (tagged `manual`:
    built when named, not by `bazel build //...`).

    ```starlark
    load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_layer")

    oci_layer(
        name = "app_layer",
        files = {"//app/cmd/server": "/usr/bin/server"},  # a go_binary, say
    )

    oci_image(
        name = "image",
        apks = "@base",  # apk.translate_lock(name = "base", ...) in MODULE.bazel
        layers = [":app_layer"],
        entrypoint = ["/usr/bin/server"],
        env = {"LOG_LEVEL": "info"},
        user = "65532:65532",
    )
    ```

    Args:
      name: the target name.
      apks: Packages from a lock: the hub repository of `apk.translate_lock` (e.g. `@base`,
        which selects the target CPU's packages) or one of its per-architecture targets.
        Each package's data member is one layer, in lock order, below `layers`. The image's
        SBOM (output group `sbom`) lists them.
      apk_layer_budget: Most layers the APK packages may take, the apk database layer
        included (containerd and overlayfs allow about 127 in all). 0: one layer per
        package, each the package's own data member with no recompression. Otherwise
        packages are joined into contiguous runs in lock order, balanced by size; a run of
        one package stays zero-copy, a longer run is spliced rather than recompressed: each
        package's compressed blocks are copied as they are, and only blocks holding an entry
        left out (a directory an earlier package in the run has, a file a later one
        replaces) or the package's tar end-of-archive are encoded again.
      apk_layering: `"origin"`: group the packages as apko v1.2.39's `layering: {strategy:
        origin, budget: N}` does, with `apk_layer_budget = N`: by origin (a package that
        replaces another joins its group), the `N-1` largest groups by installed size
        first, the rest merged into one, each group spliced as above (packages in lock
        order); then one top layer, the apk database and `apko_config`'s layer stacked.
        Origin, installed size and replaces come from each package's .PKGINFO, read when
        its repository is fetched. An `apko_config` with `layering` needs it (and one
        without refuses it). See docs/apk-install.md.
      apko_config: An apko image configuration (`apko.yaml`, apko v1.2.39's format) to take
        the image from, as `apko build` would; needs `apks` (normally the lock made from the
        same file).
        Its `accounts` and `paths` become one layer above the packages and the apk database
        and below `layers`, with `/etc/passwd` and `/etc/group` as apko writes them (the
        packages' files plus the configured users and groups; `/etc/passwd` always,
        `/etc/group` when groups are configured) and the missing home directories;
        `certificates` (each PEM to `/usr/local/share/ca-certificates`, appended to the
        packages' CA bundles and Java truststore) and `contents.runtime_keyring` (keys to
        `/etc/apk/keys`) go to the same layer.
        `entrypoint` (`command` split like a shell, or `shell-fragment` run by
        `/bin/sh -c`), `cmd`, `environment` (plus apko's default `PATH` and
        `SSL_CERT_FILE`), `work-dir`, `accounts.run-as` (a user name becomes its uid),
        `annotations` (also config labels, as apko does, and so are the image's own
        `annotations`; `vcs-url` is ignored: apko puts it on the index only), `volumes` and
        `stop-signal` make the image config.
        Precedence: an attribute of the image that is set wins (`entrypoint`, `cmd`,
        `user`, `workdir`, `stop_signal`); `env`, `annotations` and `labels` are merged key
        by key with the image's values winning; `volumes` are the union.
        `archs`, when given, must list the target platform's architecture; `layering` must
        be `{strategy: origin, budget: N}` with `apk_layering = "origin"` and
        `apk_layer_budget = N` set too (Bazel cannot read the file when it plans the layers). `contents` is the lock's business
        (`apk_lock`); `include` is merged as apko merges it (the included files must be in
        `apko_config_includes`); `contents.baseimage` and service-bundle entrypoints are
        errors. See docs/apk-install.md for what differs from apko.
      apko_config_includes: The files `apko_config` includes (`include:`, nested includes
        too), which the actions read: an included path is relative to `apko_config`'s
        directory, as for `apko build` run there.
      contents: Further `OciImageContentsInfo` targets, above the packages.
      **kwargs: attributes of `oci_image_rule` and common attributes.
    """
    if apko_config and not apks:
        fail("//{}:{}: apko_config needs apks (the packages the configuration's accounts and paths apply to)".format(native.package_name(), name))
    if apks:
        oci_image_contents(
            name = name + "_apk_contents",
            source = apks,
            layer_budget = apk_layer_budget,
            layering = apk_layering,
            config = apko_config,
            config_files = apko_config_includes,
            created = kwargs.get("created", ""),
            visibility = ["//visibility:private"],
            **shared_attrs(kwargs)
        )
        contents = [":" + name + "_apk_contents"] + contents
    oci_image_rule(name = name, contents = contents, **kwargs)

    # `bazel run :<name>.explain -- PATH...`: who put each path in the image. Manual: asked
    # for by name, it is not built by `bazel build //...`, where its files document would be
    # 4 of an image's 7 actions and most of its output bytes (docs/performance.md, Scale).
    explain = shared_attrs(kwargs)
    explain["tags"] = [t for t in explain.get("tags", []) if t != "manual"] + ["manual"]
    oci_image_explain(
        name = name + ".explain",
        image = ":" + name,
        visibility = kwargs.get("visibility"),
        **explain
    )

def apko_image(name, config, apks, dev_apks = None, **kwargs):
    """An image as `apko build` makes it from `config`, from the packages of its lock.

    Shorthand for `oci_image(name = name, apko_config = config, apks = apks, ...)`, the
    counterpart of rules_apko's `apko_image`: packages one layer each (or within
    `apk_layer_budget`), the apk database layer, one layer with the configuration's
    accounts and paths, then `layers`; the image config from the configuration, with any
    `oci_image` attribute given here taking precedence.

    One call builds one architecture (the target platform's, which the configuration's
    `archs` must list). For several, wrap it in `oci_image_index(images = [":name"],
    platforms = [...])`: the split transition builds it once per platform, each with that
    architecture's packages from the same lock.

    With `dev_apks`, the hub of the `-dev` variant's lock (`apk_lock(dev_lock = ...)`: the
    configuration plus a shell, busybox and apk-tools), it also makes `<name>_dev`, the
    same image from that lock (same configuration, layers and attributes), and
    `<name>_dev.load`, an `oci_load` of it as `bazel/<package>:<name>_dev` (`bazel run
    :<name>_dev.load`, then `docker run -it --entrypoint sh bazel/app:image_dev` debugs a
    copy of production; for another tag, an `oci_load` of `:<name>_dev` of your own).

    ```starlark
    load("@rules_wharf//apk:defs.bzl", "apk_lock")
    load("@rules_wharf//oci:defs.bzl", "apko_image")

    # `bazel run //app:lock` writes apko.lock.json and apko.dev.lock.json, which
    # MODULE.bazel translates:
    # apk.translate_lock(name = "base", lock = "//app:apko.lock.json")
    # apk.translate_lock(name = "base_dev", lock = "//app:apko.dev.lock.json")
    apk_lock(
        name = "lock",
        config = "apko.yaml",
        dev_lock = "apko.dev.lock.json",
    )

    apko_image(
        name = "image",
        config = "apko.yaml",
        apks = "@base",
        dev_apks = "@base_dev",  # :image_dev and :image_dev.load
        layers = [":app_layer"],
    )
    ```

    Args:
      name: the target name.
      config: the apko configuration (`apko.yaml`).
      apks: the lock's hub repository from `apk.translate_lock` (e.g. `"@base"`), the
        lock being the one `apk_lock` resolved from `config`.
      dev_apks: the `-dev` variant's lock's hub (e.g. `"@base_dev"`, from the lock
        `apk_lock(dev_lock = ...)` writes); makes `<name>_dev` and `<name>_dev.load`.
      **kwargs: any other `oci_image` attribute (`layers`, `env`, `user`, `base`,
        `apk_layer_budget`, `apko_config_includes`, `tags`, `visibility`, ...).
    """
    oci_image(name = name, apko_config = config, apks = apks, **kwargs)
    if not dev_apks:
        return
    oci_image(name = name + "_dev", apko_config = config, apks = dev_apks, **kwargs)
    oci_load(
        name = name + "_dev.load",
        image = ":" + name + "_dev",
        visibility = kwargs.get("visibility"),
        **shared_attrs(kwargs)
    )
