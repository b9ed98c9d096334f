"""apk_lock: `bazel run` writes an apko lock for an apko.yaml; a generated test fails when it is stale."""

load("//apk/private/actions:lock.bzl", "emit_lock_launcher", "emit_missing_lock_launcher")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _source_path(ctx, f, what):
    if not f.is_source or f.owner.workspace_name:
        fail("{}: {} must be a source file of the main repository (the lock is written next to it), got {}".format(ctx.label, what, f.owner))
    return f.short_path

def _package_path(ctx, attr, path):
    if not path or path.startswith("/") or ".." in path.split("/"):
        fail("{}: {} must be a path inside the package, got {}".format(ctx.label, attr, repr(path)))
    return (ctx.label.package + "/" + path) if ctx.label.package else path

def _lock_path(ctx):
    return _package_path(ctx, "lock", ctx.attr.lock)

def _dev_lock_path(ctx):
    if not ctx.attr.dev_lock:
        if ctx.attr.dev_packages:
            fail("{}: dev_packages needs dev_lock (the lock of the -dev variant)".format(ctx.label))
        return ""
    if ctx.attr.dev_lock == ctx.attr.lock:
        fail("{}: dev_lock must differ from lock, both are {}".format(ctx.label, repr(ctx.attr.lock)))
    return _package_path(ctx, "dev_lock", ctx.attr.dev_lock)

def _apk_lock_run_impl(ctx):
    launcher = emit_lock_launcher(
        ctx,
        template = ctx.file._launcher_template,
        config = _source_path(ctx, ctx.file.config, "config"),
        lock = _lock_path(ctx),
        archs = ctx.attr.archs,
        dev_lock = _dev_lock_path(ctx),
        dev_packages = ctx.attr.dev_packages,
    )
    return [DefaultInfo(executable = launcher.executable, runfiles = launcher.runfiles)]

_COMMON_ATTRS = {
    "archs": attr.string_list(doc = "Architectures to lock instead of the configuration's `archs` (apk or OCI spelling: `x86_64`/`amd64`, `aarch64`/`arm64`, ...)."),
    "config": attr.label(doc = "The apko configuration (`apko.yaml`), a source file of the main repository. Relative repository and keyring paths in it are relative to its directory.", mandatory = True, allow_single_file = True),
    "config_includes": attr.label_list(doc = "The files `config` includes (`include:`); the offline check reads them.", allow_files = [".yaml", ".yml"]),
    "dev_lock": attr.string(doc = "The -dev variant's lock, relative to the package: the configuration plus `dev_packages`. Empty: none."),
    "dev_packages": attr.string_list(doc = "Packages (constraints) the -dev variant's lock adds to the configuration's."),
    "lock": attr.string(doc = "The lock file, relative to the package (it may not exist yet).", mandatory = True),
    "_launcher_template": attr.label(default = Label("//apk/private/rules:apk_lock.sh.tpl"), allow_single_file = True),
    "_missing_template": attr.label(default = Label("//apk/private/rules:apk_lock_missing.sh.tpl"), allow_single_file = True),
}

apk_lock_run = rule(
    implementation = _apk_lock_run_impl,
    doc = "Runnable: resolves the configuration against its repositories and writes the lock into the source tree. Use `apk_lock`.",
    attrs = _COMMON_ATTRS,
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)

def _apk_lock_test_impl(ctx):
    lock_path = _lock_path(ctx)
    dev_lock_path = _dev_lock_path(ctx)
    locks = [f for f in ctx.files.lock_file if f.short_path == lock_path]
    dev_locks = [f for f in ctx.files.lock_file if dev_lock_path and f.short_path == dev_lock_path]
    refresh = "bazel run {}".format(ctx.attr.lock_target)
    if not locks:
        # The lock does not exist yet: the test fails, saying how to make it.
        message = "{} does not exist: create it with `{}`".format(lock_path, refresh)
        return [DefaultInfo(executable = emit_missing_lock_launcher(ctx, template = ctx.file._missing_template, message = message))]
    launcher = emit_lock_launcher(
        ctx,
        template = ctx.file._launcher_template,
        config = ctx.file.config.short_path,
        lock = lock_path,
        archs = ctx.attr.archs,
        dev_lock = dev_lock_path,
        dev_packages = ctx.attr.dev_packages,
        check = True,
        refresh_command = refresh,
        # A missing dev lock is the tool's to report: it is not there to read.
        data = [ctx.file.config, locks[0]] + dev_locks + ctx.files.config_includes,
    )
    return [DefaultInfo(executable = launcher.executable, runfiles = launcher.runfiles)]

apk_lock_test = rule(
    implementation = _apk_lock_test_impl,
    doc = "Fails when the lock is stale for its configuration (offline). Use `apk_lock`.",
    attrs = dict(_COMMON_ATTRS, **{
        "lock_file": attr.label_list(doc = "The lock files that exist (a glob of `lock` and `dev_lock`).", allow_files = True),
        "lock_target": attr.string(doc = "Label of the runnable lock target, named in the error.", mandatory = True),
    }),
    test = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)

# What Chainguard's `-dev` images add to the production image: apk-tools, busybox and a
# shell (`cmd:sh`: busybox-binsh on Alpine, whose busybox makes no links without its
# scripts; busybox itself on Wolfi).
DEV_PACKAGES = ["apk-tools", "busybox", "cmd:sh"]

def apk_lock(name, config, lock = "apko.lock.json", archs = [], dev_lock = "", dev_packages = None, config_includes = [], **kwargs):
    """Creates and refreshes an apko lock from an apko configuration.

    `bazel run :<name>` resolves `config` (contents.repositories, build_repositories,
    keyring, packages with constraints such as `name`, `name=1.2-r3`, `name>1.2`,
    `so:libc.musl-x86_64.so.1`, `cmd:sh`; archs) against each repository's signed APKINDEX
    (http(s)://, file:// or a directory relative to the configuration), fetches the chosen
    packages to record their byte ranges and checksums, and writes `lock` as `apko lock`
    would. It is the only step that uses the network.

    `:<name>_test` (generated) checks offline that the lock still fits the configuration:
    the configuration's checksum, keyring, repositories and architectures, and that every
    package constraint holds for the locked packages. When it fails, it says what changed
    and to run `bazel run :<name>`.

    ```starlark
    load("@rules_wharf//apk:defs.bzl", "apk_lock")

    # bazel run //app:lock    writes app/apko.lock.json from app/apko.yaml
    # bazel test //app:lock_test    fails, offline, when the lock is stale
    apk_lock(
        name = "lock",
        config = "apko.yaml",
        lock = "apko.lock.json",
    )
    ```

    Then `apk.translate_lock(name = "base", lock = "//app:apko.lock.json")` in MODULE.bazel
    makes its packages `@base`, for `oci_image(apks = "@base")`.

    `bazel run :<name> -- search cmd:curl` says which package provides something: `cmd:`,
    `so:`, `pc:` or any provided name, a package name, or a path (`/usr/bin/cu*`, searched
    through the `cmd:`, `so:` or `pc:` name packages generate from such a file: an APKINDEX
    lists no files), globs allowed. It answers from the configuration's repositories'
    signed indexes, verified as locking verifies them: package, version, architecture,
    repository and whether each lock has it; a term nothing matches fails the command.

    With `dev_lock`, the same `bazel run :<name>` also writes a second lock, for the image's
    `-dev` variant: the configuration's packages plus `dev_packages` (by default apk-tools,
    busybox and a shell, what Chainguard's `-dev` images add), and `:<name>_test` checks
    it too (a changed `dev_packages` makes it stale). Translate it as a lock of its own and
    give it to `apko_image(dev_apks = ...)`:

    ```starlark
    # MODULE.bazel
    apk.translate_lock(name = "base", lock = "//app:apko.lock.json")
    apk.translate_lock(name = "base_dev", lock = "//app:apko.dev.lock.json")
    use_repo(apk, "base", "base_dev")

    # app/BUILD.bazel
    apk_lock(
        name = "lock",
        config = "apko.yaml",
        dev_lock = "apko.dev.lock.json",
    )
    ```

    Args:
      name: Name of the runnable target; the test is `<name>_test`.
      config: The apko configuration (`apko.yaml`), a source file of this repository.
        Relative repository and keyring paths in it are relative to its directory.
      lock: The lock file, relative to the package. Local repository and key paths in the
        lock are relative to the lock's directory.
      archs: Architectures to lock instead of the configuration's `archs`.
      dev_lock: The `-dev` variant's lock file, relative to the package; empty for none.
      dev_packages: Packages (constraints, as in `contents.packages`) the `-dev` variant's
        lock adds to the configuration's. Default with `dev_lock`: `DEV_PACKAGES`,
        `["apk-tools", "busybox", "cmd:sh"]`.
      config_includes: The files `config` includes (`include:`, nested too; relative to
        `config`'s directory, as for `apko lock` run there): the lock's config checksum
        covers them, as apko's does, and `<name>_test` reads them.
      **kwargs: Common attributes (`tags`, `visibility`, ...) for both targets.
    """
    if dev_packages == None:
        dev_packages = DEV_PACKAGES if dev_lock else []
    apk_lock_run(
        name = name,
        config = config,
        config_includes = config_includes,
        lock = lock,
        archs = archs,
        dev_lock = dev_lock,
        dev_packages = dev_packages,
        **kwargs
    )
    apk_lock_test(
        name = name + "_test",
        config = config,
        config_includes = config_includes,
        lock = lock,
        lock_file = native.glob([lock] + ([dev_lock] if dev_lock else []), allow_empty = True),
        lock_target = "//{}:{}".format(native.package_name(), name),
        archs = archs,
        dev_lock = dev_lock,
        dev_packages = dev_packages,
        **kwargs
    )
