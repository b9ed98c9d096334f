"""OciPushInfo: what `wharf push` needs to push one image or index."""

DOC = """\
A push target's plan: the image's manifests, configs and layer metadata by path, with the
paths layer blobs have in the output tree, one plan per repository. `oci_push_all` runs several
plans in one push, and gives them all (so its `<name>.verify` checks every image).
"""

FIELDS = {
    "plan": "File: the plan (one `--FLAG=VALUE` per line, read by `wharf push --plan`) of the first repository.",
    "plans": "list of File: one plan per repository (`repository`, then each of `repositories`), `plan` first; an `oci_push_all`'s: every push's, in the order of `pushes`.",
    "runfiles": "runfiles: the plan's small files (manifests, configs, layer metadata, tags, the unsigned statements it attaches); never layer blobs, never a key.",
    "blobs": "depset of File: the layer blobs (and built layout directories of bases) the push reads; built with the push target, in a hidden output group, never its runfiles.",
}

OciPushInfo = provider(doc = DOC, fields = FIELDS)
