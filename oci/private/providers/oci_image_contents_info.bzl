"""OciImageContentsInfo: what a dependency contributes to an image, beside its own layers."""

DOC = """\
Contents an `oci_image` takes from a dependency (its `contents` attribute) without knowing
where they come from: e.g. `apk_image_contents` turns a lock's packages (and an apko.yaml)
into one. Contents sit above the base image and below the image's own `layers`, in the order
given.
"""

FIELDS = {
    "layers": "list of OciLayerInfo, bottom first.",
    "defaults": "list of File: image config defaults (the image spec's JSON schema, limited to entrypoint, cmd, env, user, workdir, labels, annotations, volumes and stop_signal), applied under the image's attributes (`image --defaults`); an earlier file's values win.",
    "annotations_as_labels": "bool: the image's own `annotations` become config labels too (under its `labels`), as apko does with its configuration's annotations.",
    "inputs": "depset of File: files the image action must depend on, so that no image exists before they are built (e.g. signature verification records).",
    "locks": "list of struct(name, file), optional: the files the contents were resolved from (e.g. the apko lock, named by its label), which the image's provenance records by sha256.",
    "sbom": "struct(emit, ...) or None: the packages the image's SBOM lists (in fields of the contents' own), and `emit(ctx, parts, layers) -> struct(spdx, cyclonedx)`, which writes the image's SBOM `<name>.spdx.json` and `<name>.cdx.json` in the image rule of `ctx` from `parts`, the `sbom` of each of the image's contents that has one, in order, and `layers`, the image's OciLayerInfo (those with an `sbom` part are listed; `emit_image_sbom` of //oci:actions.bzl writes it); the image calls the first one's. None: no SBOM.",
}

OciImageContentsInfo = provider(doc = DOC, fields = FIELDS)
