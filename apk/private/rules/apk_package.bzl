"""apk_package: one locked APK (used in the repositories that translate_lock generates)."""

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
            package_name = a.package_name,
            version = a.version,
            arch = a.arch,
            url = a.url,
            parts = ctx.files.parts,
            head_parts = ctx.files.head_parts or ctx.files.parts,
            control_checksum = a.control_checksum,
            data_checksum = a.data_checksum,
            data_size = a.data_size,
            layer = out.layer,
            facts = out.facts,
        ),
    ]

apk_package = rule(
    implementation = _apk_package_impl,
    doc = """One APK from a lock. Its data member becomes a layer, byte for byte: the layer digest
is the package's signed datahash. The action checks the control member against the lock's
sha1, the data member against .PKGINFO's datahash and the lock's sha256. When the data member
is a part of its own (ranged downloads of http(s) locks), that file is the layer blob and the
action writes only metadata and facts; from a whole .apk it copies the data member out.""",
    attrs = {
        "package_name": attr.string(doc = "Package name, as in the lock.", mandatory = True),
        "version": attr.string(doc = "Package version, as in the lock.", mandatory = True),
        "arch": attr.string(doc = "APK architecture, as in the lock.", mandatory = True),
        "url": attr.string(doc = "Where the lock says the package comes from (recorded, not fetched)."),
        "parts": attr.label_list(
            doc = "Files whose concatenation is the package: the whole .apk, or its signature, control and data members.",
            allow_files = True,
            mandatory = True,
        ),
        "head_parts": attr.label_list(
            doc = "The parts holding the signature and control members, when the data member is a separate part; signature checks read only these.",
            allow_files = True,
        ),
        "control_checksum": attr.string(doc = "The lock's control member checksum (`sha1-...`)."),
        "data_checksum": attr.string(doc = "The lock's data member checksum (`sha256-...`)."),
        "data_size": attr.int(doc = "Size of the data member per the lock's range (0: unknown); used to balance layer groups."),
    },
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
