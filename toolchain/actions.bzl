"""wharf_action: the one emitter of actions that run the wharf tool.

It owns what every such action must agree on: the toolchain lookup, the param-file format
the tool reads (raw lines: Bazel's `multiline`), and the execution requirements of the
actions that may run in a persistent worker. Rules say only the verb, its flags, the files
and whether the action is one of the many small ones a worker serves.
"""

load("@bazel_skylib//lib:shell.bzl", "shell")
load(":toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

# Execution requirements of actions that Bazel may hand to a persistent, multiplexed wharf
# worker locally (`wharf VERB --persistent_worker`, JSON protocol): an image of a 100-package
# lock is 100+ short actions, and a worker spares each a process start, a sandbox tree and
# Bazel's spawn bookkeeping. Remote execution and --strategy=NAME=sandboxed|local run the
# same command line as a plain process.
WHARF_WORKER_REQUIREMENTS = {
    "requires-worker-protocol": "json",
    "supports-multiplex-workers": "1",
    "supports-workers": "1",
}

def wharf_action(ctx, verb, args, *, inputs, outputs, mnemonic, progress_message, worker = False):
    """Runs `wharf VERB ARGS...` as an action of the rule.

    The command line is `wharf VERB @PARAMS`: the verb's flags go to a param file of raw lines
    (Bazel's `multiline` format; `wharf` reads a line as one argument, so values may hold
    spaces or start with `@`). A worker action always uses the param file: Bazel sends a worker
    the file's lines as one request, and the command line before it (`wharf VERB`) names the
    worker, so every action of a mnemonic shares one worker process. Other actions keep their
    flags on the command line unless it is too long.

    Args:
      ctx: the rule context; the rule must declare `WHARF_TOOLCHAIN_TYPE` in `toolchains`.
      verb: the wharf verb (`layer`, `image`, ...).
      args: an Args (`ctx.actions.args()`) with the verb's flags; its param-file settings
        are set here.
      inputs: list or depset of File.
      outputs: list of File.
      mnemonic: the action's mnemonic.
      progress_message: the progress message (`%{label}` etc. expand).
      worker: whether the action may run in a persistent, multiplexed wharf worker (the
        many small actions: packages, layers, image metadata, SBOMs); copying actions
        (layouts, tarballs) stay processes.
    """
    args.use_param_file("@%s", use_always = worker)
    args.set_param_file_format("multiline")
    command = ctx.actions.args()
    command.add(verb)
    ctx.actions.run(
        executable = ctx.toolchains[WHARF_TOOLCHAIN_TYPE].wharf,
        arguments = [command, args],
        inputs = inputs,
        outputs = outputs,
        mnemonic = mnemonic,
        execution_requirements = WHARF_WORKER_REQUIREMENTS if worker else None,
        progress_message = progress_message,
        toolchain = WHARF_TOOLCHAIN_TYPE,
    )

def wharf_launcher(ctx, *, template, substitutions = {}, files = []):
    """Writes `<name>.sh` from `template`: a script that runs the wharf tool from its runfiles.

    Every launcher (push, lock, explain, structure and vulnerability tests) takes the tool the
    same way: `{{WHARF}}` is its `runfiles_path`, `{{LABEL}}` the target's label and
    `{{SELF}}` the launcher's path.

    Args:
      ctx: the rule context; the rule must declare `WHARF_TOOLCHAIN_TYPE` in `toolchains`.
      template: File, the launcher's template.
      substitutions: dict, the template's other placeholders.
      files: list of File the launcher reads from its runfiles beside the tool.

    Returns:
      struct(executable, runfiles): the launcher, and the tool and `files` as runfiles.
    """
    tc = ctx.toolchains[WHARF_TOOLCHAIN_TYPE]
    wharf = tc.wharf_executable
    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    subs = {
        "{{LABEL}}": str(ctx.label),
        "{{SELF}}": launcher.path,
        "{{WHARF}}": shell.quote(runfiles_path(wharf)),
    }
    subs.update(substitutions)
    ctx.actions.expand_template(template = template, output = launcher, substitutions = subs, is_executable = True)
    return struct(executable = launcher, runfiles = ctx.runfiles(files = [wharf] + files).merge(tc.wharf_runfiles))

def runfiles_path(f):
    """A runfile's path for a launcher, relative to the main repository's runfiles directory.

    `./`-prefixed so that a file at the top (a prebuilt `wharf` in the root package) is not
    looked up on PATH when run.

    Args:
      f: File.

    Returns:
      The path.
    """
    return f.short_path if f.short_path.startswith("../") else "./" + f.short_path
