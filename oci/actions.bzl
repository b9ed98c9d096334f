"""Emitters for rule sets that write layers for rules_wharf's images (apk/ uses them).

`layer_action` declares a layer's blob and metadata, runs the wharf verb that writes them and
returns the `OciLayerInfo`; `label_text` is how a label appears in what images record;
`emit_image_sbom` writes an image's SBOM from the package flags a contents source gives.
"""

load("//oci/private/actions:labels.bzl", _label_text = "label_text")
load("//oci/private/actions:layer.bzl", _layer_action = "layer_action")
load("//oci/private/actions:sbom.bzl", _emit_image_sbom = "emit_image_sbom")

emit_image_sbom = _emit_image_sbom
label_text = _label_text
layer_action = _layer_action
