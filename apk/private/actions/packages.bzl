"""The emitters of a lock's packages for one architecture: signatures (`apk-verify`) and the
apk database layer (`apk-installdb`)."""

load("//oci:actions.bzl", "layer_action")
load("//toolchain:actions.bzl", "wharf_action")

def emit_apk_verify(ctx, *, packages, keyring, lock, require_signatures):
    """Checks every package's signature (or, unsigned, the lock's pins) in one action.

    It reads only the signature and control members (RSA checks take microseconds), and keeps
    the keyring out of the per-package layer actions, which stay shared by locks with other
    keyrings.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      packages: list of ApkPackageInfo.
      keyring: list of File, the public keys.
      lock: the lock's name for messages, or empty.
      require_signatures: fail on unsigned packages instead of trusting the lock's checksums.

    Returns:
      File: the verification record (`<name>/verified.json`).
    """
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
    args.add_all(keyring, before_each = "--key")
    if lock:
        args.add("--lock", lock)
    if require_signatures:
        args.add("--require-signatures")
    args.add("--out", out)
    wharf_action(
        ctx,
        "apk-verify",
        args,
        inputs = [requests] + [f for p in packages for f in p.head_parts] + keyring,
        outputs = [out],
        mnemonic = "ApkVerify",
        progress_message = "Checking {} package signatures for %{{label}}".format(len(packages)),
        worker = True,
    )
    return out

def emit_apk_installdb(ctx, *, arch, packages, keyring, repositories):
    """The apk database layer: installed db, /etc/apk, the base layout.

    Reads package facts (small JSON), never the packages.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      arch: the APK architecture.
      packages: list of ApkPackageInfo, in lock order.
      keyring: list of File, installed under /etc/apk/keys.
      repositories: lines of /etc/apk/repositories.

    Returns:
      OciLayerInfo (`<name>/apkdb.tar.gz`).
    """
    args = ctx.actions.args()
    args.add("--arch", arch)
    args.add_all([p.facts for p in packages], before_each = "--package")
    args.add_all(keyring, before_each = "--key")
    args.add_all(repositories, before_each = "--repository")
    return layer_action(
        ctx,
        "apk-installdb",
        args,
        prefix = "{}/apkdb".format(ctx.label.name),
        inputs = [p.facts for p in packages] + keyring,
        mnemonic = "ApkInstallDb",
        progress_message = "Writing the apk database for %{label}",
    )
