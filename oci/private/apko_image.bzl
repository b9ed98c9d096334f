"""apko_image: an image from an apko.yaml and the lock made from it."""

load(":image.bzl", "oci_image")

def apko_image(name, config, apks, **kwargs):
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

    Args:
      name: the target name.
      config: the apko configuration (`apko.yaml`).
      apks: the lock's hub repository from `apk.translate_lock` (e.g. `"@base"`), the
        lock being the one `apk_lock` resolved from `config`.
      **kwargs: any other `oci_image` attribute (`layers`, `env`, `user`, `base`,
        `apk_layer_budget`, `tags`, `visibility`, ...).
    """
    oci_image(name = name, apko_config = config, apks = apks, **kwargs)
