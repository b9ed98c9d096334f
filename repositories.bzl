"""Legacy WORKSPACE entry points. bzlmod (MODULE.bazel) is the supported interface.

WORKSPACE users declare rules_go, gazelle and the Go dependencies of go.mod themselves
(with go_repository), then call these. See docs/workspace.md.
"""

# Named like rules_go's go_register_toolchains: it declares no target, so it takes no name.
# buildifier: disable=unnamed-macro
def rules_wharf_register_toolchains():
    """Registers the wharf tool built from source (needs rules_go and the go.mod deps)."""
    native.register_toolchains(str(Label("//tools/toolchain:source_toolchain")))
