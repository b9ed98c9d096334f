"""How layers are passed to the wharf tool (`--layer`, `--extern`, ...): one format, written in one place."""

def layer_arg(layer):
    """`BLOB=METADATA` of an OciLayerInfo (for `--layer`; use with map_each)."""
    return "{}={}".format(layer.blob.path, layer.metadata.path)

def extern_arg(extern):
    """`LAYERS_JSON=DIR` of layers kept in an imported OCI layout (for `--extern`)."""
    return "{}={}".format(extern.layers.path, extern.dir.path)
