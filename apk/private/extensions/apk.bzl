"""The `apk` module extension: apko lock files into Bazel repositories."""

load("//apk/private:translate.bzl", "package_groups", "translate_lock")
load("//apk/private/repository_rules:apk_import.bzl", "apk_hub", "apk_import_group", "apk_keyring")

def _placed_label(label, placed):
    # translate_lock names a package by its content repository: @<content>//:pkg.
    p = placed[label.removeprefix("@").partition("//")[0]]
    return "@{}//{}:pkg".format(p.repo, p.dir)

def _apk_impl(mctx):
    packages = {}  # repo name -> kwargs
    keys = {}
    hubs = {}
    for mod in mctx.modules:
        for tag in mod.tags.translate_lock:
            if tag.name in hubs:
                fail("translate_lock: two locks are named {} ({} and {})".format(tag.name, hubs[tag.name]["lock"], tag.lock))
            t = translate_lock(mctx, tag.lock, tag.distro, tag.require_signatures)
            for repo, kw in t.packages.items():
                packages.setdefault(repo, kw)
            keys.update(t.keys)
            hubs[tag.name] = t.hub

    # One repository per package and architecture, each locked content in a package of its
    # own: a lock edit that changes a version keeps the set of repository names, which every
    # repository's mapping holds (package_groups).
    placed = package_groups(packages)
    groups = {}
    for content, kw in packages.items():
        kw = dict(kw)
        if "source" in kw:
            kw["source"] = str(kw["source"])
        groups.setdefault(placed[content].repo, {})[placed[content].dir] = json.encode(kw)
    for repo, contents in groups.items():
        apk_import_group(name = repo, packages = contents)

    for h in hubs.values():
        h["packages"] = {arch: [_placed_label(label, placed) for label in labels] for arch, labels in h["packages"].items()}
    for repo, kw in keys.items():
        apk_keyring(name = repo, **kw)
    for name, h in hubs.items():
        apk_hub(name = name, hub_name = name, **h)
    return mctx.extension_metadata(reproducible = True)

_TRANSLATE_LOCK_DOC = """Translate an apko lock file (`apko.lock.json`) into repositories: one per package and architecture (`apk_<arch>_<name>`, shared by every lock; each locked content of it in a package of its own, so that a version change keeps the set of repositories), one per key, and a hub named `name` with a target per architecture and an alias selecting by target CPU.

```starlark
apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(
    name = "alpine",
    lock = "//images/alpine:apko.lock.json",
    require_signatures = True,  # Alpine signs every package: refuse an unsigned one
)
use_repo(apk, "alpine")  # @alpine, and @alpine//:x86_64, @alpine//:aarch64, ...
```
"""

_translate_lock = tag_class(
    doc = _TRANSLATE_LOCK_DOC,
    attrs = {
        "name": attr.string(doc = "Name of the hub repository (bring it in with `use_repo`).", mandatory = True),
        "lock": attr.label(doc = "The apko lock file.", mandatory = True, allow_single_file = [".json"]),
        "distro": attr.string(doc = "Distribution named in the SBOM's package URLs (`pkg:apk/<distro>/<name>@<version>`). Empty (the default): the `ID` of the /etc/os-release the packages install, as syft reads it (`wolfi`, `alpine`, ...), or `alpine` when none does."),
        "require_signatures": attr.bool(doc = "Fail the build on unsigned packages, naming each, instead of trusting them through the lock's checksums (a lock entry with an empty `signature.range`: `apko lock` copied its control checksum from the signed APKINDEX). See docs/apk.md, the trust model."),
    },
)

_DOC = """Brings APK packages pinned by apko lock files into the build. In MODULE.bazel:

```starlark
apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "base", lock = "//app:apko.lock.json")
use_repo(apk, "base")
```

then `oci_image(apks = "@base", ...)` takes the packages for the target CPU.
"""

apk = module_extension(
    implementation = _apk_impl,
    doc = _DOC,
    tag_classes = {"translate_lock": _translate_lock},
)
