"""OciImageContentsSourceInfo: a target that makes an image's contents for each image using it."""

DOC = """\
A target that contributes to images whose contents depend on the image (its platform, a layer
budget, a configuration file): e.g. a lock's hub repository (`apks = "@base"`), whose packages
an image takes as layers. `oci_image(apks = ...)` makes an `oci_image_contents` target that
calls `emit`, so the image rules need no code of the rule set that provides it (the arrow goes
from that rule set to oci/, as in rules_go's toolchain `actions`).
"""

FIELDS = {
    "emit": """function(ctx, source, *, platform, layer_budget, layering, config, config_files, created) ->
OciImageContentsInfo: declares the contents' actions in the rule of `ctx` (which has the wharf
toolchain): `source` the Target providing this; `platform` the target platform's entry of
//platforms:platforms.bzl's PLATFORMS; `layer_budget` the most layers the contents may take
(0: no limit); `layering` how the source groups its layers within it (apk: "origin", or
empty); `config` a File or None (e.g. an apko.yaml) and `config_files` the files it includes; `created` the image's `created`
time (empty: the epoch).""",
}

OciImageContentsSourceInfo = provider(doc = DOC, fields = FIELDS)
