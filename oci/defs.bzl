"""Public API of rules_wharf's image rules. Implementations live in //oci/private."""

load("//oci:providers.bzl", _OciImageInfo = "OciImageInfo", _OciIndexInfo = "OciIndexInfo", _OciLayerInfo = "OciLayerInfo")
load("//oci/private:apko_image.bzl", _apko_image = "apko_image")
load("//oci/private:image.bzl", _oci_image = "oci_image")
load("//oci/private:index.bzl", _oci_image_index = "oci_image_index")
load("//oci/private:layer.bzl", _oci_layer = "oci_layer")
load("//oci/private:load.bzl", _oci_load = "oci_load")
load("//oci/private:push.bzl", _oci_push = "oci_push")

apko_image = _apko_image
oci_image = _oci_image
oci_image_index = _oci_image_index
oci_layer = _oci_layer
oci_load = _oci_load
oci_push = _oci_push
OciImageInfo = _OciImageInfo
OciIndexInfo = _OciIndexInfo
OciLayerInfo = _OciLayerInfo
