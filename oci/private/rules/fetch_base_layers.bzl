"""fetch_base_layers: for rules that read a pulled base's layer bytes."""

load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_index_info.bzl", "OciIndexInfo")

_FLAG = str(Label("//oci/settings:fetch_base_layers"))

def _impl(settings, attr):
    # Unchanged unless the rule asks: a transition that changes nothing keeps the
    # configuration, so its image is not built twice.
    return {_FLAG: settings[_FLAG] or attr.fetch_base_layers}

# On a rule's image attribute, with FETCH_BASE_LAYERS_ATTRS among its attributes: when the
# rule's `fetch_base_layers` is set, turns on --@rules_wharf//oci/settings:fetch_base_layers
# for the image: the `<name>_layers` repositories of the images oci.pull made are fetched,
# and the pulled layouts hold the layer blobs. The image is then built in a configuration of
# its own.
fetch_base_layers_transition = transition(
    implementation = _impl,
    inputs = [_FLAG],
    outputs = [_FLAG],
)

FETCH_BASE_LAYERS_ATTRS = {
    "fetch_base_layers": attr.bool(doc = "Build the image with `--@rules_wharf//oci/settings:fetch_base_layers`: the layer blobs of a base that `oci.pull` pulled (shallow) are fetched, which this rule reads (`oci_load`: only its tarball; `bazel run` streams them from the registry without it). The image is then built in a configuration of its own (its actions run once more beside a build of it without the flag); without it, a base layer that is not there fails naming the layer and this remedy. See docs/pull.md#shallow-bases-layers-only-when-needed."),
}

def image_attr(doc):
    """The `image` attribute of a rule that reads layer bytes (with FETCH_BASE_LAYERS_ATTRS).

    Args:
      doc: the attribute's doc.

    Returns:
      An image or index label attribute through fetch_base_layers_transition.
    """
    return attr.label(doc = doc, mandatory = True, providers = [[OciImageInfo], [OciIndexInfo]], cfg = fetch_base_layers_transition)

def image_target(ctx):
    """The target of image_attr's attribute `image`.

    Args:
      ctx: the rule context.

    Returns:
      The target (an attribute with a Starlark transition is a list, of one here).
    """
    return ctx.attr.image[0] if type(ctx.attr.image) == "list" else ctx.attr.image
