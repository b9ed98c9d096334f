"""OciIndexInfo: a multi-platform image index."""

DOC = "An OCI image index built by rules_wharf and the images it lists."

FIELDS = {
    "index": "File: the image index JSON.",
    "descriptor": "File: the index's OCI descriptor JSON.",
    "digest": "File: the index digest as text (sha256:...).",
    "layout": "File (directory): the index and its images as an OCI layout, built only when asked for (output group `layout`, push).",
    "images": "list of OciImageInfo, one per platform.",
    "sbom": "File: SPDX 2.3 JSON for the index: the index, each platform's image and its packages.",
}

OciIndexInfo = provider(doc = DOC, fields = FIELDS)
