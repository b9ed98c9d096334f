"""apk_package: one locked APK (used in the repositories that translate_lock generates)."""

load("//apk/private:lock.bzl", "APK_PACKAGE_RECORD_FIELDS", "PACKAGE_FIELDS", "PACKAGE_REQUIRED")
load("//apk/private/actions:package.bzl", "emit_apk_extract")
load("//apk/private/providers:apk_package_info.bzl", "ApkPackageInfo")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _apk_package_impl(ctx):
    a = ctx.attr
    out = emit_apk_extract(
        ctx,
        name = a.package_name,
        version = a.version,
        arch = a.arch,
        parts = ctx.files.parts,
        # Ranged downloads: the last part is the data member alone.
        in_place = len(ctx.files.head_parts) > 0,
        control_checksum = a.control_checksum,
        data_checksum = a.data_checksum,
    )
    return [
        DefaultInfo(files = depset([out.layer.blob, out.layer.metadata, out.facts])),
        out.layer,
        ApkPackageInfo(
            parts = ctx.files.parts,
            head_parts = ctx.files.head_parts or ctx.files.parts,
            data_size = a.data_size,
            origin = a.origin,
            installed_size = a.installed_size,
            replaces = a.replaces,
            layer = out.layer,
            facts = out.facts,
            **{f: getattr(a, f) for f in APK_PACKAGE_RECORD_FIELDS}
        ),
    ]

_DOC = """One APK from a lock. Its data member becomes a layer, byte for byte: the layer digest
is the package's signed datahash. The action checks the control member against the lock's
sha1, the data member against .PKGINFO's datahash and the lock's sha256. When the data member
is a part of its own (ranged downloads of http(s) locks), that file is the layer blob and the
action writes only metadata and facts; from a whole .apk it copies the data member out.

```starlark
load("@rules_wharf//apk:defs.bzl", "apk_package")

# What apk.translate_lock writes for one entry of a lock, the whole .apk as its one part.
apk_package(
    name = "wharf-greeting",
    package_name = "wharf-greeting",
    version = "0.3.0-r2",
    arch = "x86_64",
    url = "https://packages.example.com/x86_64/wharf-greeting-0.3.0-r2.apk",
    control_checksum = "sha1-/k66PZjl7KfxmnQ2t4I7KtXfgec=",
    data_checksum = "sha256-g3pZt0NSb2WnOdfed8jAtIMH9vB/js1gboxnH4uL/vM=",
    parts = ["wharf-greeting-0.3.0-r2.apk"],
)
```
"""

apk_package = rule(
    implementation = _apk_package_impl,
    doc = _DOC,
    # The lock's record under its own names (lock.bzl's PACKAGE_FIELDS), then what the
    # repository rule made of its ranges.
    attrs = {
        f: attr.string(doc = PACKAGE_FIELDS[f], mandatory = f in PACKAGE_REQUIRED)
        for f in APK_PACKAGE_RECORD_FIELDS
    } | {
        "parts": attr.label_list(
            doc = "Files whose concatenation is the package: the whole .apk, or its signature, control and data members.",
            allow_files = True,
            mandatory = True,
        ),
        "head_parts": attr.label_list(
            doc = "The parts holding the signature and control members, when the data member is a separate part; signature checks read only these.",
            allow_files = True,
        ),
        "data_size": attr.int(doc = "Size of the data member per the lock's range (0: unknown); used to balance layer groups."),
        # From .PKGINFO, which the repository reads when it fetches the package: origin
        # layering (`apk_layering = "origin"`) groups by them when Bazel plans the layers.
        "origin": attr.string(doc = "The package's origin (.PKGINFO `origin`); empty: unknown, which origin layering refuses."),
        "installed_size": attr.int(doc = "The package's installed size (.PKGINFO `size`), which orders origin layering's groups."),
        "replaces": attr.string_list(doc = "The packages it replaces (.PKGINFO `replaces`), whose groups origin layering joins."),
    },
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
