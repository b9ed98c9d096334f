"""WORKSPACE macros for the wharf tool (bzlmod: the `wharf` extension of extensions.bzl)."""

load("//tools/toolchain/private:extensions.bzl", "declare_prebuilt_repositories")
load("//tools/toolchain/private:versions.bzl", "WHARF_BINARIES")

# Named like rules_go's go_register_toolchains: it declares no target, so it takes no name.
# buildifier: disable=unnamed-macro
def rules_wharf_prebuilt_toolchains(base_url = ""):
    """Downloads the release's prebuilt wharf for each exec platform and registers it.

    The WORKSPACE form of the `wharf` module extension: `@wharf_<goos>_<goarch>` per binary of
    the release (downloaded only when a build resolves its toolchain, checked against the
    sha256 the release recorded) and `@wharf_toolchains`, registered here. Remote execution
    gets the executor's binary. A checkout of rules_wharf (not a release archive) has no
    binaries: this fails, naming the alternatives.

    Args:
      base_url: where the release's binaries are served instead of the default (GitHub
        releases): `<base_url>/v<version>/wharf-<goos>-<goarch>`.
    """
    if not WHARF_BINARIES:
        fail("rules_wharf_prebuilt_toolchains: this rules_wharf is a checkout, not a release: " +
             "tools/toolchain/private/versions.bzl lists no prebuilt binary. Use a release's " +
             "source archive, register a wharf_toolchain of your own binary, or " +
             "rules_wharf_register_toolchains() to build wharf from source (docs/workspace.md)")
    declare_prebuilt_repositories(base_url)
    native.register_toolchains("@wharf_toolchains//:all")
