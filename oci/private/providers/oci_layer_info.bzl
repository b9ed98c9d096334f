"""OciLayerInfo: one layer, as a blob plus the small metadata file that describes it."""

DOC = """\
A layer: the blob and a metadata JSON file (mediaType, digest, size, diffID, annotations,
createdBy). Image and index actions read only the metadata, never the blob.
"""

FIELDS = {
    "blob": "File: the compressed (or plain) layer tar.",
    "metadata": "File: JSON metadata written in the same action as the blob.",
    "facts": "list of File: the package facts of the APK packages the layer holds, in order (their entries are the layer's), or empty.",
    "listing": "File or None: the layer's entries as its action wrote them (`--listing`), when no package facts describe it.",
    "label": "string: the target whose action made the layer (the image's files document names it).",
    "sbom": "File or None: the layer's part of its images' SBOMs (`wharf sbom-layer`: the files a rule put in, by label, and its Go binaries' modules); None for layers whose packages the SBOM lists otherwise (APK) or not at all (archives).",
}

OciLayerInfo = provider(doc = DOC, fields = FIELDS)
