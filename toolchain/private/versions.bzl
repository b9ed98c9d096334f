"""The prebuilt wharf binaries of a release: written by tools/dev/release, do not edit.

The wharf toolchain extension (//toolchain:extensions.bzl) downloads, for each entry,
WHARF_URL_TEMPLATE with base_url (WHARF_DEFAULT_BASE_URL unless the root module sets
another), version and file filled in, and checks its sha256. An empty table (a checkout,
not a release) means no prebuilt tool: every exec platform builds wharf from source.
"""

WHARF_VERSION = "0.0.0"

WHARF_DEFAULT_BASE_URL = "https://github.com/rules-wharf/rules_wharf/releases/download"

WHARF_URL_TEMPLATE = "{base_url}/v{version}/{file}"

WHARF_BINARIES = {}
