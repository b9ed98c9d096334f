"""The `wharf` module extension (bzlmod): the prebuilt wharf tool, `wharf.toolchain(base_url, from_source)`."""

load("//toolchain/private:extensions.bzl", _wharf = "wharf")

wharf = _wharf
