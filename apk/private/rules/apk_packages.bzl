"""apk_packages: a lock's packages for one architecture, signature-checked against its keyring."""

load("//apk/private/actions:contents.bzl", "emit_apk_contents")
load("//apk/private/actions:packages.bzl", "emit_apk_installdb", "emit_apk_verify")
load("//apk/private/providers:apk_package_info.bzl", "ApkPackageInfo")
load("//apk/private/providers:apk_packages_info.bzl", "ApkPackagesInfo")
load("//oci:actions.bzl", "label_text")
load("//oci:providers.bzl", "OciImageContentsSourceInfo")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _lock_name(ctx):
    """The lock's label as the main repository writes it (bzlmod or not), for provenance."""
    name = ctx.attr.lock
    if name.startswith(("@", "//")):
        return label_text(Label(name))
    return name or label_text(ctx.file.lock_file.owner)

def _apk_packages_impl(ctx):
    packages = [p[ApkPackageInfo] for p in ctx.attr.packages]
    for p in packages:
        if p.arch != ctx.attr.arch:
            fail("package {}-{} is for {}, not {}".format(p.package_name, p.version, p.arch, ctx.attr.arch))

    # One action per (lock, arch) checks every signature.
    verifications = depset([emit_apk_verify(
        ctx,
        packages = packages,
        keyring = ctx.files.keyring,
        lock = ctx.attr.lock,
        require_signatures = ctx.attr.require_signatures,
    )])
    database = emit_apk_installdb(ctx, arch = ctx.attr.arch, packages = packages, keyring = ctx.files.keyring, repositories = ctx.attr.repositories)
    lock = struct(name = _lock_name(ctx), file = ctx.file.lock_file) if ctx.file.lock_file else None
    return [
        DefaultInfo(files = depset(
            [p.layer.blob for p in packages] + [p.layer.metadata for p in packages] + [database.blob, database.metadata],
            transitive = [verifications],
        )),
        ApkPackagesInfo(arch = ctx.attr.arch, distro = ctx.attr.distro, packages = packages, database = database, verifications = verifications, lock = lock),
        # `oci_image(apks = ...)`: the image rules make their contents through this, without
        # loading apk/.
        OciImageContentsSourceInfo(emit = emit_apk_contents),
        OutputGroupInfo(_validation = verifications),
    ]

_DOC = """The packages of one lock for one architecture, in lock order. A signed package must
verify against the lock's keyring; an unsigned one (Wolfi's) is trusted through the lock: its
control member's sha1 is the lock's, and its .PKGINFO datahash is the lock's data checksum,
which the package's own action compares with the data member.

```starlark
load("@rules_wharf//apk:defs.bzl", "apk_packages")
load("@rules_wharf//oci:defs.bzl", "oci_image")

# What apk.translate_lock writes per architecture in the hub `@base` (as `@base//:x86_64`).
apk_packages(
    name = "x86_64",
    arch = "x86_64",
    packages = [
        ":wharf-baselayout",  # apk_package targets, in lock order
        ":wharf-greeting",
    ],
    keyring = ["wharf-example.rsa.pub"],
    repositories = ["https://packages.example.com"],
)

oci_image(
    name = "image",
    apks = ":x86_64",  # or "@base", which picks the target CPU's
)
```
"""

apk_packages = rule(
    implementation = _apk_packages_impl,
    doc = _DOC,
    attrs = {
        "arch": attr.string(doc = "APK architecture of every package.", mandatory = True),
        "packages": attr.label_list(doc = "`apk_package` targets in lock order.", providers = [ApkPackageInfo]),
        "keyring": attr.label_list(doc = "Public keys (PEM); a key's file name is the name signatures refer to.", allow_files = True),
        "repositories": attr.string_list(doc = "Lines of /etc/apk/repositories (the lock's repositories, without the architecture)."),
        "distro": attr.string(doc = "Distribution named in SBOM package URLs; empty: the `ID` of the /etc/os-release the packages install."),
        "lock": attr.string(doc = "The lock the packages come from, named in error messages and image provenance."),
        "lock_file": attr.label(doc = "The lock file itself, which the provenance of images made from these packages records by sha256 (`translate_lock` links it into the hub).", allow_single_file = [".json"]),
        "require_signatures": attr.bool(doc = "Fail on unsigned packages (naming each) instead of trusting them through the lock's checksums."),
    },
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
