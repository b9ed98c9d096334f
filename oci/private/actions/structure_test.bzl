"""oci_structure_test's emitter: the argument file `wharf structure-test` reads and the test's launcher."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//toolchain:actions.bzl", "wharf_launcher")

# What `no_shell = True` forbids: shells and package managers, by path and by package name.
NO_SHELL_PATHS = [
    "/bin/sh",
    "/bin/ash",
    "/bin/bash",
    "/usr/bin/bash",
    "/bin/busybox",
    "/sbin/apk",
    "/usr/bin/apt",
    "/usr/bin/apt-get",
    "/usr/bin/dpkg",
]
NO_SHELL_PACKAGES = ["apk-tools", "bash", "busybox", "dash", "apt", "dpkg"]

def _layer_line(layer):
    return "{}={}".format(layer.blob.short_path, layer.metadata.short_path)

def _extern_line(extern):
    return "{}={}".format(extern.layers.short_path, extern.dir.short_path)

def _policy_args(args, policy):
    for flag in ["non_root", "no_setuid", "no_world_writable"]:
        if getattr(policy, flag):
            args.add("--" + flag.replace("_", "-"))
    for flag in ["forbidden_path", "forbidden_package", "allowed_base_digest", "allowed_package", "denied_package", "allowed_license", "denied_license"]:
        args.add_all(getattr(policy, flag + "s"), format_each = "--{}=%s".format(flag.replace("_", "-")))

def emit_structure_test(ctx, *, image, configs, policy, base, template):
    """Writes `<name>.args` and the launcher `<name>.sh`, which runs `wharf structure-test` on them.

    The test reads the image's config, layer blobs and metadata (and SBOM, base digest and
    config when the policy needs them) from its runfiles: it needs no daemon and runs remotely.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      image: the OciImageInfo to check.
      configs: list of File, container-structure-test YAML.
      policy: struct with the rule's policy attributes (non_root, no_setuid, no_world_writable
        as bool; forbidden_paths, forbidden_packages, allowed_base_digests, allowed_packages,
        denied_packages, allowed_licenses, denied_licenses as lists of string).
      base: OciImageInfo or None, the base `allowed_base_digests` checks.
      template: File, the launcher's template (structure_test.sh.tpl).

    Returns:
      struct(executable, runfiles).
    """
    args = ctx.actions.args()
    args.set_param_file_format("multiline")
    args.add_all(configs, map_each = _short_path, format_each = "--config=%s")
    args.add(image.config.short_path, format = "--image-config=%s")
    args.add_all(image.extern_layers, map_each = _extern_line, format_each = "--extern=%s")
    args.add_all(image.layers, map_each = _layer_line, format_each = "--layer=%s")
    _policy_args(args, policy)
    files = list(configs) + [image.config] + [f for layer in image.layers for f in [layer.blob, layer.metadata]]
    files += [f for e in image.extern_layers for f in [e.layers, e.dir]]
    if base:
        args.add(base.digest.short_path, format = "--base-digest=%s")
        args.add(base.config.short_path, format = "--base-config=%s")
        files += [base.digest, base.config]

    # The SBOM only when a package or license rule reads it: an input more reruns the test.
    if image.sbom and (policy.forbidden_packages or policy.allowed_packages or policy.denied_packages or policy.allowed_licenses or policy.denied_licenses):
        args.add(image.sbom.short_path, format = "--sbom=%s")
        files.append(image.sbom)
    arg_file = ctx.actions.declare_file(ctx.label.name + ".args")
    ctx.actions.write(arg_file, args)

    return wharf_launcher(
        ctx,
        template = template,
        substitutions = {"{{ARGS}}": shell.quote(arg_file.short_path)},
        files = files + [arg_file],
    )

def _short_path(f):
    return f.short_path
