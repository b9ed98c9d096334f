"""The wharf toolchain: how rules reach the one multi-call tool."""

WHARF_TOOLCHAIN_TYPE = Label("//toolchain:type")

def _wharf_toolchain_impl(ctx):
    return [
        # Building the toolchain target builds the tool (in the exec configuration, as rules
        # use it): `bazel build @rules_wharf//toolchain:source` warms a cache with it.
        DefaultInfo(files = depset([ctx.executable.wharf])),
        platform_common.ToolchainInfo(
            wharf = ctx.attr.wharf[DefaultInfo].files_to_run,
            wharf_executable = ctx.executable.wharf,
            wharf_runfiles = ctx.attr.wharf[DefaultInfo].default_runfiles,
        ),
    ]

wharf_toolchain = rule(
    implementation = _wharf_toolchain_impl,
    doc = "Declares a wharf tool (built from source or prebuilt) for the toolchain type `@rules_wharf//toolchain:type`.",
    attrs = {
        "wharf": attr.label(
            doc = "The wharf executable: a binary rule (e.g. `go_binary`) or a prebuilt executable file.",
            mandatory = True,
            executable = True,
            allow_files = True,
            cfg = "exec",
        ),
    },
)

def wharf_tool(ctx):
    """Returns the resolved toolchain's wharf FilesToRunProvider.

    Actions are emitted by `wharf_action` (//toolchain:actions.bzl); this is for rules
    that need the tool itself (e.g. in a runfiles tree).

    Args:
      ctx: the rule context.

    Returns:
      The FilesToRunProvider of the wharf executable.
    """
    return ctx.toolchains[WHARF_TOOLCHAIN_TYPE].wharf
