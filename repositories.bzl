"""Legacy WORKSPACE entry points. bzlmod (MODULE.bazel) is the supported interface.

See docs/workspace.md: `rules_wharf_dependencies()`, then a wharf toolchain (the release's
prebuilt binaries with `rules_wharf_prebuilt_toolchains()`, a binary of your own, or
`rules_wharf_register_toolchains()` for the one built from source), then
`@rules_wharf//apk:repositories.bzl`'s `translate_lock` per lock.
"""

load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")
load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")
load("//toolchain:repositories.bzl", _rules_wharf_prebuilt_toolchains = "rules_wharf_prebuilt_toolchains", _rules_wharf_tools_repository = "rules_wharf_tools_repository")

# Named like rules_go's go_rules_dependencies: it declares no target, so it takes no name.
# buildifier: disable=unnamed-macro
def rules_wharf_dependencies():
    """Declares what rules_wharf's rules load, unless the WORKSPACE declared it already.

    bazel_skylib, as the version (URL and checksum) Bazel 7's own WORKSPACE suffix declares,
    but early enough for the lines after this call to load from it. `platforms` is built
    into Bazel. The tool built from source needs more (`rules_wharf_register_toolchains`).
    """
    maybe(
        http_archive,
        name = "bazel_skylib",
        sha256 = "9f38886a40548c6e96c106b752f242130ee11aaa068a56ba7e56f4511f33e4f2",
        urls = ["https://github.com/bazelbuild/bazel-skylib/releases/download/1.6.1/bazel-skylib-1.6.1.tar.gz"],
    )

# Named like rules_go's go_register_toolchains: it declares no target, so it takes no name.
# buildifier: disable=unnamed-macro
def rules_wharf_register_toolchains():
    """Registers the wharf tool built from source: `@rules_wharf_tools//:source_toolchain`.

    Declares `@rules_wharf_tools` (the Go sources, the `tools/` directory of this
    rules_wharf) unless the WORKSPACE declared it already. Building it needs rules_go
    declared as `@rules_go`, gazelle as `@gazelle`, and a `go_repository` per module of
    rules_wharf's tools/go.mod.
    """
    maybe(_rules_wharf_tools_repository, name = "rules_wharf_tools")
    native.register_toolchains("@rules_wharf_tools//:source_toolchain")

# The release's prebuilt tool per exec platform (the WORKSPACE form of the wharf extension).
rules_wharf_prebuilt_toolchains = _rules_wharf_prebuilt_toolchains
