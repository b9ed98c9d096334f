"""OciIndexInfo: a multi-platform image index."""

DOC = "An OCI image index built by rules_wharf and the images it lists."

FIELDS = {
    "index": "File: the image index JSON.",
    "descriptor": "File: the index's OCI descriptor JSON.",
    "digest": "File: the index digest as text (sha256:...).",
    "layout": "File (directory): the index and its images as an OCI layout, built only when asked for (output group `layout`, push).",
    "images": "list of OciImageInfo, one per platform.",
    "sbom": "File: SPDX 2.3 JSON for the index: the index, each platform's image and its packages.",
    "attestations": "struct(spdx, cyclonedx, provenance): unsigned in-toto statements about the index digest: the index SBOMs' (File), and SLSA provenance v1 (File) whose subjects are the index and each of its manifests; each image's own are in `images`.",
}

OciIndexInfo = provider(doc = DOC, fields = FIELDS)
