"""emit_apk_extract: one locked APK, verified, as a layer and its facts."""

load("//oci:actions.bzl", "layer_action")

def emit_apk_extract(ctx, *, name, version, arch, parts, in_place, control_checksum, data_checksum):
    """Checks a package against its lock and writes its data member's layer and its facts.

    With ranged downloads (http(s) locks) the last part is the data member alone, and it is
    the layer blob as is: the action checks it and writes only metadata and facts. Otherwise
    (a whole .apk) the action copies the data member out in the same pass.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      name: the package name.
      version: the package version.
      arch: the APK architecture.
      parts: list of File whose concatenation is the package.
      in_place: whether the last part is the data member alone (the layer blob).
      control_checksum: the lock's control member checksum (`sha1-...`), or empty.
      data_checksum: the lock's data member checksum (`sha256-...`), or empty.

    Returns:
      struct(layer, facts): OciLayerInfo and File (`<name>-<version>.<arch>.facts.json`).
    """
    prefix = "{}-{}.{}".format(name, version, arch)
    facts = ctx.actions.declare_file(prefix + ".facts.json")
    args = ctx.actions.args()
    args.add("--name", name)
    args.add("--version", version)
    args.add("--arch", arch)
    args.add_all(parts, before_each = "--part")
    if control_checksum:
        args.add("--control-checksum", control_checksum)
    if data_checksum:
        args.add("--data-checksum", data_checksum)
    layer = layer_action(
        ctx,
        "apk-extract",
        args,
        prefix = prefix,
        ext = ".data.tar.gz",
        blob = parts[-1] if in_place else None,
        extra_outputs = [("--facts", facts)],
        facts = [facts],
        inputs = parts,
        mnemonic = "ApkExtract",
        progress_message = "Verifying and extracting APK %{label}",
    )
    return struct(layer = layer, facts = facts)
