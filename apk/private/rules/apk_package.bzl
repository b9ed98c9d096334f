"""apk_package: one locked APK (used in the repositories that translate_lock generates)."""

load("//apk/private/providers:apk_package_info.bzl", "ApkPackageInfo")
load("//oci:providers.bzl", "OciLayerInfo")
load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _apk_package_impl(ctx):
    prefix = "{}-{}.{}".format(ctx.attr.package_name, ctx.attr.version, ctx.attr.arch)

    # With ranged downloads (http(s) locks) the last part is the data member alone, and it
    # is the layer blob as is: the action checks it and writes only metadata and facts.
    # Otherwise (a whole .apk) the action copies the data member out in the same pass.
    in_place = len(ctx.files.head_parts) > 0
    blob = ctx.files.parts[-1] if in_place else ctx.actions.declare_file(prefix + ".data.tar.gz")
    metadata = ctx.actions.declare_file(prefix + ".layer.json")
    facts = ctx.actions.declare_file(prefix + ".facts.json")
    args = ctx.actions.args()
    args.add("--name", ctx.attr.package_name)
    args.add("--version", ctx.attr.version)
    args.add("--arch", ctx.attr.arch)
    args.add_all(ctx.files.parts, before_each = "--part")
    if ctx.attr.control_checksum:
        args.add("--control-checksum", ctx.attr.control_checksum)
    if ctx.attr.data_checksum:
        args.add("--data-checksum", ctx.attr.data_checksum)
    if not in_place:
        args.add("--blob", blob)
    args.add("--metadata", metadata)
    args.add("--facts", facts)
    wharf_action(
        ctx,
        "apk-extract",
        args,
        inputs = ctx.files.parts,
        outputs = [metadata, facts] if in_place else [blob, metadata, facts],
        mnemonic = "ApkExtract",
        progress_message = "Verifying and extracting APK %{label}",
        worker = True,
    )
    layer = OciLayerInfo(blob = blob, metadata = metadata)
    head = ctx.files.head_parts or ctx.files.parts
    return [
        DefaultInfo(files = depset([blob, metadata, facts])),
        layer,
        ApkPackageInfo(
            package_name = ctx.attr.package_name,
            version = ctx.attr.version,
            arch = ctx.attr.arch,
            url = ctx.attr.url,
            parts = ctx.files.parts,
            head_parts = head,
            control_checksum = ctx.attr.control_checksum,
            data_checksum = ctx.attr.data_checksum,
            data_size = ctx.attr.data_size,
            layer = layer,
            facts = facts,
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
