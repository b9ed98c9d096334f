"""OciImageInfo: a single-platform image."""

DOC = """\
An image built by rules_wharf: its manifest, config and layers. The layers are listed
bottom-first; their blobs are only needed by actions that move bytes (layout, push, load).
"""

FIELDS = {
    "manifest": "File: the image manifest JSON.",
    "config": "File: the image config JSON.",
    "descriptor": "File: the manifest's OCI descriptor JSON (mediaType, digest, size, platform).",
    "digest": "File: the manifest digest as text (sha256:...).",
    "layout": "File (directory): the image as an OCI layout, built only when asked for (output group `layout`, push).",
    "layers": "list of OciLayerInfo, bottom first, above `extern_layers`.",
    "extern_layers": "list of struct(layers, dir, origin, root, shallow): bottom layers whose blobs stay in an imported OCI layout directory `dir`; `layers` is a JSON list of their metadata; `origin` the registry repository they were pulled from and `root` the exec path of the downloaded files (both empty when unknown); `shallow` True when `dir` holds none of the blobs (oci.pull without `--@rules_wharf//oci/settings:fetch_base_layers`).",
    "os": "string: the image OS.",
    "architecture": "string: the image architecture (OCI name, e.g. amd64).",
    "variant": "string: the architecture variant, or empty.",
    "sbom": "File or None: SPDX 2.3 JSON describing the packages the image's contents list (e.g. its APK packages); None when they list none.",
    "attestations": "struct(spdx, cyclonedx, provenance, locks, bases): unsigned in-toto statements about the manifest digest (`oci_push` signs them at run time): `spdx` and `cyclonedx` the SBOMs' (File, None without an SBOM), `provenance` SLSA provenance v1 (File); `locks` (list of struct(name, file)) and `bases` (list of struct(name, descriptor)) what the provenance records, for an index's.",
}

OciImageInfo = provider(doc = DOC, fields = FIELDS)
