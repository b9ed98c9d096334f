"""WORKSPACE macros for the wharf tool (bzlmod: the `wharf` extension of extensions.bzl)."""

load("//toolchain/private:extensions.bzl", "declare_prebuilt_repositories")
load("//toolchain/private:versions.bzl", "WHARF_BINARIES")

# Named like rules_go's go_register_toolchains: it declares no target, so it takes no name.
# buildifier: disable=unnamed-macro
def rules_wharf_prebuilt_toolchains(base_url = ""):
    """Downloads the release's prebuilt wharf for each exec platform and registers it.

    The WORKSPACE form of the `wharf` module extension: `@wharf_<goos>_<goarch>` per binary of
    the release (downloaded only when a build resolves its toolchain, checked against the
    sha256 the release recorded) and `@wharf_toolchains`, registered here. Remote execution
    gets the executor's binary. A checkout of rules_wharf (not a release archive) has no
    binaries: this fails, naming the alternatives.

    ```starlark
    # WORKSPACE, after the http_archive of a rules_wharf release
    load("@rules_wharf//:repositories.bzl", "rules_wharf_dependencies", "rules_wharf_prebuilt_toolchains")

    rules_wharf_dependencies()

    rules_wharf_prebuilt_toolchains()  # or base_url = "https://mirror.example.com/rules_wharf"
    ```

    Args:
      base_url: where the release's binaries are served instead of the default (GitHub
        releases): `<base_url>/v<version>/wharf-<goos>-<goarch>`.
    """
    if not WHARF_BINARIES:
        fail("rules_wharf_prebuilt_toolchains: this rules_wharf is a checkout, not a release: " +
             "toolchain/private/versions.bzl lists no prebuilt binary. Use a release's " +
             "source archive, register a wharf_toolchain of your own binary, or " +
             "rules_wharf_register_toolchains() to build wharf from source (docs/workspace.md)")
    declare_prebuilt_repositories(base_url)
    native.register_toolchains("@wharf_toolchains//:all")

def _tools_repository_impl(rctx):
    # The tools/ directory of the rules_wharf repository this file belongs to: the same
    # sources as the rules_wharf_tools module, whatever archive or checkout provided them.
    tools = rctx.path(Label("//:MODULE.bazel")).dirname.get_child("tools")
    if not tools.get_child("MODULE.bazel").exists:
        fail("rules_wharf_tools_repository: {} is not rules_wharf's tools/ directory (no MODULE.bazel in it)".format(tools))
    for child in tools.readdir():
        rctx.symlink(child, child.basename)

_TOOLS_REPOSITORY_DOC = """The wharf tool's Go sources (`tools/` of this rules_wharf) as the repository `rules_wharf_tools`, for WORKSPACE builds from source.

```starlark
# WORKSPACE: what rules_wharf_register_toolchains() (@rules_wharf//:repositories.bzl) does;
# building it needs @rules_go, @gazelle and a go_repository per module of go.mod
load("@rules_wharf//toolchain:repositories.bzl", "rules_wharf_tools_repository")

rules_wharf_tools_repository(name = "rules_wharf_tools")

register_toolchains("@rules_wharf_tools//:source_toolchain")
```
"""

rules_wharf_tools_repository = repository_rule(
    implementation = _tools_repository_impl,
    doc = _TOOLS_REPOSITORY_DOC,
    local = True,
)
