"""apk_tidy: `bazel run` keeps MODULE.bazel's apk.translate_lock entries in step with the module's locks."""

load("//apk/private/actions:tidy.bzl", "emit_tidy_launcher")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

_DOC = """\
Runnable: keeps the module's MODULE.bazel in step with the `apko.lock.json` files in its
tree. `bazel run` it after adding, moving or deleting a lock (after gazelle, whose
`apko_image` targets name these repositories; see [gazelle.md](gazelle.md)):

- a lock without an `apk.translate_lock` entry gets one, named `apko_<directory>` (`apko`
  at the root) as gazelle's extension expects, and its name in `use_repo`;
- an entry whose `apko.lock.json` is gone is removed, with its `use_repo` name;
- an entry that names its lock by another label than the lock's own (a BUILD file appeared
  between them) gets the lock's label; an entry's name missing from `use_repo` is added.

Entries for other locks (another file name, another repository) and entries marked
`# keep` are left as they are, and a lock that already has an entry keeps its name. Each
change is printed, naming the lock; MODULE.bazel is rewritten in buildifier's format only
when something changed. `-- --check` changes nothing and fails, listing the changes, when
any is needed (for CI).

```starlark
# BUILD.bazel at the module's root
load("@rules_wharf//apk:defs.bzl", "apk_tidy")

# bazel run //:wharf_tidy
apk_tidy(name = "wharf_tidy")
```
"""

def _apk_tidy_impl(ctx):
    launcher = emit_tidy_launcher(ctx, template = ctx.file._launcher_template)
    return [DefaultInfo(executable = launcher.executable, runfiles = launcher.runfiles)]

apk_tidy = rule(
    implementation = _apk_tidy_impl,
    doc = _DOC,
    attrs = {
        "_launcher_template": attr.label(default = Label("//apk/private/rules:apk_tidy.sh.tpl"), allow_single_file = True),
    },
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
