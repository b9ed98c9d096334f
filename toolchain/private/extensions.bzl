"""The `wharf` module extension: the prebuilt wharf tool, one repository per exec platform.

The release's table (versions.bzl, written by tools/dev/release) lists a binary and its
sha256 per GOOS/GOARCH. For each entry the extension declares `@wharf_<goos>_<goarch>`,
which downloads that binary (only when a build resolves its toolchain), and the hub
`@wharf_toolchains` declares one `toolchain()` per entry whose `exec_compatible_with` comes
from //platforms:platforms.bzl. rules_wharf registers the hub; rules_wharf_tools (tools/, a
module of its own so that users of the prebuilt tool fetch no rules_go) registers it again
ahead of the toolchain built from source, so an exec platform with a binary uses it (under
remote execution: the executor's platform) and any other builds wharf with rules_go.
"""

load("//platforms:platforms.bzl", "exec_constraints")
load(":versions.bzl", "WHARF_BINARIES", "WHARF_DEFAULT_BASE_URL", "WHARF_URL_TEMPLATE", "WHARF_VERSION")

_TOOLCHAIN_BZL = Label("//toolchain:toolchain.bzl")
_TOOLCHAIN_TYPE = Label("//toolchain:type")

def _binary_repo_impl(rctx):
    exe = "wharf.exe" if rctx.attr.goos == "windows" else "wharf"
    rctx.download(
        url = rctx.attr.urls,
        output = exe,
        sha256 = rctx.attr.sha256,
        executable = True,
    )
    rctx.file("BUILD.bazel", """\
load("{bzl}", "wharf_toolchain")

# wharf {version} for {goos}/{goarch}, downloaded by the wharf module extension.
wharf_toolchain(
    name = "toolchain",
    wharf = "{exe}",
    visibility = ["//visibility:public"],
)
""".format(bzl = _TOOLCHAIN_BZL, version = rctx.attr.version, goos = rctx.attr.goos, goarch = rctx.attr.goarch, exe = exe))

_binary_repo = repository_rule(
    implementation = _binary_repo_impl,
    doc = "Downloads one prebuilt wharf binary and declares its `wharf_toolchain`.",
    attrs = {
        "goarch": attr.string(doc = "Go's GOARCH of the binary.", mandatory = True),
        "goos": attr.string(doc = "Go's GOOS of the binary.", mandatory = True),
        "sha256": attr.string(doc = "The binary's sha256 (hex), from the release's table.", mandatory = True),
        "urls": attr.string_list(doc = "Where to download the binary.", mandatory = True),
        "version": attr.string(doc = "The release the binary belongs to (for the BUILD file's comment).", mandatory = True),
    },
)

def _hub_impl(rctx):
    lines = ["# The prebuilt wharf toolchains (wharf module extension); empty when built from source."]
    for name, constraints in sorted(rctx.attr.toolchains.items()):
        lines.append("""
toolchain(
    name = "{name}",
    exec_compatible_with = {constraints},
    toolchain = "@wharf_{name}//:toolchain",
    toolchain_type = "{type}",
)""".format(name = name, constraints = repr(constraints), type = _TOOLCHAIN_TYPE))
    rctx.file("BUILD.bazel", "\n".join(lines) + "\n")

_hub = repository_rule(
    implementation = _hub_impl,
    doc = "Declares a `toolchain()` per prebuilt wharf binary; downloading is the binary repositories' business.",
    attrs = {
        "toolchains": attr.string_list_dict(doc = "GOOS_GOARCH -> the exec platform's constraint labels.", mandatory = True),
    },
)

def _wharf_impl(mctx):
    base_url = ""
    from_source = False
    for mod in mctx.modules:
        # Only the root module chooses: the tool is one for the whole build.
        if not mod.is_root:
            continue
        if len(mod.tags.toolchain) > 1:
            fail("wharf.toolchain: the root module {} sets it {} times; set it once".format(mod.name, len(mod.tags.toolchain)))
        for tag in mod.tags.toolchain:
            base_url = tag.base_url
            from_source = tag.from_source
    declare_prebuilt_repositories(base_url, from_source)

def declare_prebuilt_repositories(base_url = "", from_source = False):
    """Declares `@wharf_<goos>_<goarch>` per binary of the release table and the hub `@wharf_toolchains`.

    Shared by the module extension and the WORKSPACE macro.

    Args:
      base_url: where the release's binaries are served; empty: the release's default.
      from_source: declare no binary (the hub stays empty).
    """
    base_url = (base_url or WHARF_DEFAULT_BASE_URL).rstrip("/")
    toolchains = {}
    if not from_source:
        for name, binary in WHARF_BINARIES.items():
            constraints = exec_constraints(binary["os"], binary["arch"])
            if not constraints:
                fail("wharf: the release table lists {} ({}/{}), which //platforms:platforms.bzl has no exec constraints for".format(name, binary["os"], binary["arch"]))
            _binary_repo(
                name = "wharf_" + name,
                goos = binary["os"],
                goarch = binary["arch"],
                sha256 = binary["sha256"],
                urls = [WHARF_URL_TEMPLATE.format(base_url = base_url, version = WHARF_VERSION, file = binary["file"])],
                version = WHARF_VERSION,
            )
            toolchains[name] = [str(c) for c in constraints]
    _hub(name = "wharf_toolchains", toolchains = toolchains)

_TOOLCHAIN_DOC = """How the root module gets the wharf tool. Only the root module's tag is read; set it at most once.

```starlark
# MODULE.bazel: wharf built from source with rules_go, on every exec platform
bazel_dep(name = "rules_wharf_tools", version = "0.0.0")  # the same version as rules_wharf

wharf = use_extension("@rules_wharf//toolchain:extensions.bzl", "wharf")
wharf.toolchain(from_source = True)
```
"""

wharf = module_extension(
    implementation = _wharf_impl,
    doc = """The wharf tool for your build's exec platforms.

rules_wharf uses this extension itself: without any tag, each exec platform with a
prebuilt binary in the release downloads it. Building wharf from source (for exec
platforms without a binary, or all of them with `from_source`) takes
`bazel_dep(name = "rules_wharf_tools")`, which brings rules_go and registers that
toolchain, and a Go SDK. In your MODULE.bazel:

```starlark
wharf = use_extension("@rules_wharf//toolchain:extensions.bzl", "wharf")
wharf.toolchain(base_url = "https://mirror.example.com/rules_wharf")  # a mirror of the release assets
# or
wharf.toolchain(from_source = True)  # with rules_wharf_tools: build wharf with rules_go on every exec platform
```
""",
    tag_classes = {
        "toolchain": tag_class(
            doc = _TOOLCHAIN_DOC,
            attrs = {
                "base_url": attr.string(
                    doc = "Where the release's binaries are served instead of GitHub: the URL is " +
                          "`<base_url>/v<version>/wharf-<goos>-<goarch>`, checked against the sha256 the release recorded.",
                ),
                "from_source": attr.bool(
                    doc = "Build wharf from source with rules_go on every exec platform instead of downloading it " +
                          "(your module then needs `bazel_dep(name = \"rules_wharf_tools\")` and a Go SDK, " +
                          "which rules_go registers by default).",
                ),
            },
        ),
    },
)
