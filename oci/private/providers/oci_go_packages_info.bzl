"""OciGoPackagesInfo: the Go packages a target links, from the Bazel graph (go_packages_aspect)."""

DOC = """\
The Go packages a rules_go target links, found by `go_packages_aspect` from the rules'
attributes (no load of rules_go: users of the prebuilt wharf fetch none). A rules_go binary
carries no module list in its build info, so an image's SBOM maps these import paths to the
modules a go.mod requires.
"""

FIELDS = {
    "is_binary": "bool: the target is a `go_binary`.",
    "main": "string: a binary's main package (its `importpath`, else its embedded library's); empty for a library.",
    "packages": "depset of string: `IMPORTPATH<TAB>LABEL` of every package it links, itself included.",
}

OciGoPackagesInfo = provider(doc = DOC, fields = FIELDS)
