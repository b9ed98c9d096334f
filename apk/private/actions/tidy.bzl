"""The launcher of `wharf tidy`: apk_tidy's runnable target."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("//toolchain:actions.bzl", "wharf_launcher")

def emit_tidy_launcher(ctx, *, template):
    """Writes `<name>.sh`, a bash launcher that runs `wharf tidy` on the workspace `bazel run` names.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      template: File, apk_tidy.sh.tpl.

    Returns:
      struct(executable, runfiles): the launcher and the tool as its runfiles.
    """
    return wharf_launcher(ctx, template = template, substitutions = {
        "{{LABEL_QUOTED}}": shell.quote(str(ctx.label)),
    })
