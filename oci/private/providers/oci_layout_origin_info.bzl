"""OciLayoutOriginInfo: where an OCI layout directory's blobs came from."""

DOC = """\
Where the blobs of an OCI layout directory (e.g. one `oci.pull` made) came from and where the
downloaded files are, so that a push of an image built on it can mount its base layers from the
same registry, or read them from the downloaded files, instead of needing the layout directory;
and which key vouched for it, for rules that require verified bases.
"""

FIELDS = {
    "repository": "string: the registry repository the blobs were pulled from (e.g. `ghcr.io/org/base`).",
    "root": "string: exec path of the downloaded layout directory (holding `blobs/sha256/`).",
    "shallow": "bool: the layout holds the image's index, manifest and config but no layer blob (`oci.pull` fetches them only under `--@rules_wharf//oci/settings:fetch_base_layers`): an image built on it reads only the layers' descriptors, and push mounts or copies them from `repository`.",
    "verified_by": "string: the public key (its label, or path in a verify policy) that verified the image's cosign signature at fetch time (`oci.pull(verify = ...)`); empty when it was pulled without verify.",
}

OciLayoutOriginInfo = provider(doc = DOC, fields = FIELDS)
