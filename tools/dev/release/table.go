package main

import (
	"fmt"
	"sort"
	"strings"
)

// binary is one built tool and its sha256.
type binary struct {
	platform
	sha256 string
}

// renderVersions writes toolchain/private/versions.bzl: buildifier-formatted, entries
// sorted, so the same binaries always give the same bytes.
func renderVersions(version, baseURL, goVersion string, binaries []binary) []byte {
	var b strings.Builder
	b.WriteString(`"""The prebuilt wharf binaries of a release: written by tools/dev/release, do not edit.

The wharf toolchain extension (//toolchain:extensions.bzl) downloads, for each entry,
WHARF_URL_TEMPLATE with base_url (WHARF_DEFAULT_BASE_URL unless the root module sets
another), version and file filled in, and checks its sha256. An empty table (a checkout,
not a release) means no prebuilt tool: every exec platform builds wharf from source.
"""

`)
	fmt.Fprintf(&b, "WHARF_VERSION = %q\n\n", version)
	fmt.Fprintf(&b, "WHARF_DEFAULT_BASE_URL = %q\n\n", baseURL)
	b.WriteString("WHARF_URL_TEMPLATE = \"{base_url}/v{version}/{file}\"\n\n")
	if len(binaries) == 0 {
		b.WriteString("WHARF_BINARIES = {}\n")
		return []byte(b.String())
	}
	sorted := append([]binary(nil), binaries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].file() < sorted[j].file() })
	fmt.Fprintf(&b, "# Built with %s (go build -trimpath, CGO_ENABLED=0).\n", goVersion)
	b.WriteString("WHARF_BINARIES = {\n")
	for _, bin := range sorted {
		fmt.Fprintf(&b, "    %q: {\n", bin.goos+"_"+bin.goarch)
		fmt.Fprintf(&b, "        \"arch\": %q,\n", bin.goarch)
		fmt.Fprintf(&b, "        \"file\": %q,\n", bin.file())
		fmt.Fprintf(&b, "        \"os\": %q,\n", bin.goos)
		fmt.Fprintf(&b, "        \"sha256\": %q,\n", bin.sha256)
		b.WriteString("    },\n")
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// renderSums writes sha256sum's format (`sha256sum -c SHA256SUMS` checks a download), sorted.
func renderSums(sums map[string]string) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return []byte(b.String())
}
