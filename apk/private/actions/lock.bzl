"""Launchers of `wharf lock`: apk_lock's runnable target (writes the lock) and its test
(`--check`), or the test's stand-in when the lock does not exist yet."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//toolchain:actions.bzl", "wharf_launcher")

def emit_lock_launcher(ctx, *, template, config, lock, archs, dev_lock = "", dev_packages = [], check = False, refresh_command = "", data = []):
    """Writes `<name>.sh`, a bash launcher that finds the tool in its runfiles and runs `wharf lock`.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      template: File, apk_lock.sh.tpl.
      config: the apko.yaml's path: in the source tree to write the lock, in the runfiles to check it.
      lock: the lock's path, relative to the workspace.
      archs: architectures to lock instead of the configuration's.
      dev_lock: the -dev variant's lock's path, relative to the workspace ("": none).
      dev_packages: the packages the -dev variant's lock adds to the configuration's.
      check: whether to check the lock offline (a test, in the runfiles) instead of writing
        it (`bazel run`, in the source tree).
      refresh_command: the command a failed check names.
      data: list of File the launcher's runfiles hold beside the tool (a test's config and lock).

    Returns:
      struct(executable, runfiles): the launcher and its runfiles (the tool and `data`).
    """
    args = (["--check"] if check else []) + ["--config", config, "--lock", lock]
    if refresh_command:
        args += ["--refresh-command", refresh_command]
    for a in archs:
        args += ["--arch", a]
    if dev_lock:
        args += ["--dev-lock", dev_lock]
        for p in dev_packages:
            args += ["--dev-package", p]
    return wharf_launcher(ctx, template = template, files = data, substitutions = {
        "{{ARGS}}": " ".join([shell.quote(a) for a in args]),
        "{{IN_WORKSPACE}}": "0" if check else "1",
        "{{LABEL_QUOTED}}": shell.quote(str(ctx.label)),
    })

def emit_missing_lock_launcher(ctx, *, template, message):
    """Writes `<name>.sh`, a test that fails with `message` (the lock does not exist yet).

    Args:
      ctx: the rule context.
      template: File, apk_lock_missing.sh.tpl.
      message: what the test prints.

    Returns:
      File: the launcher.
    """
    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.expand_template(
        template = template,
        output = launcher,
        substitutions = {"{{MESSAGE}}": shell.quote(message)},
        is_executable = True,
    )
    return launcher
