"""The wharf toolchain: how rules reach the one multi-call tool."""

WHARF_TOOLCHAIN_TYPE = Label("//tools/toolchain:type")

def _wharf_toolchain_impl(ctx):
    return [
        # Building the toolchain target builds the tool (in the exec configuration, as rules
        # use it): `bazel build @rules_wharf//tools/toolchain:source` warms a cache with it.
        DefaultInfo(files = depset([ctx.executable.wharf])),
        platform_common.ToolchainInfo(
            wharf = ctx.attr.wharf[DefaultInfo].files_to_run,
            wharf_executable = ctx.executable.wharf,
            wharf_runfiles = ctx.attr.wharf[DefaultInfo].default_runfiles,
        ),
    ]

wharf_toolchain = rule(
    implementation = _wharf_toolchain_impl,
    doc = "Declares a wharf tool (built from source or prebuilt) for the toolchain type `@rules_wharf//tools/toolchain:type`.",
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
    """Returns the resolved toolchain's wharf FilesToRunProvider."""
    return ctx.toolchains[WHARF_TOOLCHAIN_TYPE].wharf

# Execution requirements of actions that Bazel may hand to a persistent, multiplexed wharf
# worker locally (`wharf --persistent_worker`, JSON protocol): an image of a 100-package lock
# is 100+ short actions, and a worker spares each a process start, a sandbox tree and
# Bazel's spawn bookkeeping. Their arguments come from wharf_worker_args. Remote execution
# and --strategy=NAME=sandboxed|local run the same command line as a plain process.
WHARF_WORKER_REQUIREMENTS = {
    "requires-worker-protocol": "json",
    "supports-multiplex-workers": "1",
    "supports-workers": "1",
}

def wharf_worker_args(ctx):
    """Returns an Args for an action with WHARF_WORKER_REQUIREMENTS.

    Everything, the verb included, goes to a param file: Bazel sends a worker the file's lines
    as one request, and the command line before it names the worker, so every action of a
    mnemonic shares one worker process.

    Args:
      ctx: the rule context.

    Returns:
      An Args object.
    """
    args = ctx.actions.args()
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    return args
