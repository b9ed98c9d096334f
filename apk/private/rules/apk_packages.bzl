"""apk_packages: a lock's packages for one architecture, signature-checked against its keyring."""

load("//apk/private/providers:apk_package_info.bzl", "ApkPackageInfo")
load("//apk/private/providers:apk_packages_info.bzl", "ApkPackagesInfo")
load("//oci:providers.bzl", "OciLayerInfo")
load("//toolchain:actions.bzl", "wharf_action")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _apk_packages_impl(ctx):
    packages = [p[ApkPackageInfo] for p in ctx.attr.packages]
    for p in packages:
        if p.arch != ctx.attr.arch:
            fail("package {}-{} is for {}, not {}".format(p.package_name, p.version, p.arch, ctx.attr.arch))

    # One action per (lock, arch) checks every signature (or, for an unsigned package, the
    # lock's pins): it reads only the signature and control members (RSA checks take
    # microseconds), and keeps the keyring out of the per-package layer actions, which stay
    # shared by locks with other keyrings.
    requests = ctx.actions.declare_file("{}/verify.json".format(ctx.label.name))
    ctx.actions.write(requests, json.encode([
        {
            "name": p.package_name,
            "version": p.version,
            "arch": p.arch,
            "parts": [f.path for f in p.head_parts],
            "control_checksum": p.control_checksum,
            "data_checksum": p.data_checksum,
        }
        for p in packages
    ]))
    out = ctx.actions.declare_file("{}/verified.json".format(ctx.label.name))
    args = ctx.actions.args()
    args.add("--packages", requests)
    args.add_all(ctx.files.keyring, before_each = "--key")
    if ctx.attr.lock:
        args.add("--lock", ctx.attr.lock)
    if ctx.attr.require_signatures:
        args.add("--require-signatures")
    args.add("--out", out)
    wharf_action(
        ctx,
        "apk-verify",
        args,
        inputs = [requests] + [f for p in packages for f in p.head_parts] + ctx.files.keyring,
        outputs = [out],
        mnemonic = "ApkVerify",
        progress_message = "Checking {} package signatures for %{{label}}".format(len(packages)),
        worker = True,
    )
    verifications = depset([out])

    # The apk database layer: installed db, /etc/apk, the base layout. Reads package facts
    # (small JSON), never the packages.
    db_blob = ctx.actions.declare_file("{}/apkdb.tar.gz".format(ctx.label.name))
    db_meta = ctx.actions.declare_file("{}/apkdb.layer.json".format(ctx.label.name))
    args = ctx.actions.args()
    args.add("--arch", ctx.attr.arch)
    args.add_all([p.facts for p in packages], before_each = "--package")
    args.add_all(ctx.files.keyring, before_each = "--key")
    args.add_all(ctx.attr.repositories, before_each = "--repository")
    args.add("--blob", db_blob)
    args.add("--metadata", db_meta)
    wharf_action(
        ctx,
        "apk-installdb",
        args,
        inputs = [p.facts for p in packages] + ctx.files.keyring,
        outputs = [db_blob, db_meta],
        mnemonic = "ApkInstallDb",
        progress_message = "Writing the apk database for %{label}",
        worker = True,
    )
    database = OciLayerInfo(blob = db_blob, metadata = db_meta)
    return [
        DefaultInfo(files = depset(
            [p.layer.blob for p in packages] + [p.layer.metadata for p in packages] + [db_blob, db_meta],
            transitive = [verifications],
        )),
        ApkPackagesInfo(arch = ctx.attr.arch, distro = ctx.attr.distro, packages = packages, database = database, verifications = verifications),
        OutputGroupInfo(_validation = verifications),
    ]

apk_packages = rule(
    implementation = _apk_packages_impl,
    doc = """The packages of one lock for one architecture, in lock order. A signed package must
verify against the lock's keyring; an unsigned one (Wolfi's) is trusted through the lock: its
control member's sha1 is the lock's, and its .PKGINFO datahash is the lock's data checksum,
which the package's own action compares with the data member.""",
    attrs = {
        "arch": attr.string(doc = "APK architecture of every package.", mandatory = True),
        "packages": attr.label_list(doc = "`apk_package` targets in lock order.", providers = [ApkPackageInfo]),
        "keyring": attr.label_list(doc = "Public keys (PEM); a key's file name is the name signatures refer to.", allow_files = True),
        "repositories": attr.string_list(doc = "Lines of /etc/apk/repositories (the lock's repositories, without the architecture)."),
        "distro": attr.string(doc = "Distribution named in SBOM package URLs; empty: the `ID` of the /etc/os-release the packages install."),
        "lock": attr.string(doc = "The lock the packages come from, named in error messages."),
        "require_signatures": attr.bool(doc = "Fail on unsigned packages (naming each) instead of trusting them through the lock's checksums."),
    },
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
