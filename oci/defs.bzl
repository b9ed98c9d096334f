"""Public API of rules_wharf's image rules. Implementations live in //oci/private.

`oci_image` and `apko_image` are macros: they give the generic image rule (`oci_image_rule`,
which knows no APK) the packages of a lock as a target in `contents`, whose actions the lock's
hub repository supplies (`OciImageContentsSourceInfo`): oci/ loads nothing from apk/.
"""

load("//oci:providers.bzl", _OciImageContentsInfo = "OciImageContentsInfo", _OciImageInfo = "OciImageInfo", _OciIndexInfo = "OciIndexInfo", _OciLayerInfo = "OciLayerInfo")
load("//oci/private/rules:explain.bzl", _oci_image_explain = "oci_image_explain")
load("//oci/private/rules:image.bzl", _oci_image_rule = "oci_image_rule")
load("//oci/private/rules:image_macros.bzl", _apko_image = "apko_image", _oci_image = "oci_image")
load("//oci/private/rules:index.bzl", _oci_image_index = "oci_image_index")
load("//oci/private/rules:layer.bzl", _oci_layer = "oci_layer")
load("//oci/private/rules:load.bzl", _oci_load = "oci_load")
load("//oci/private/rules:push.bzl", _oci_push = "oci_push", _oci_push_all = "oci_push_all", _oci_push_all_rule = "oci_push_all_rule", _oci_push_rule = "oci_push_rule", _oci_push_verify = "oci_push_verify")
load("//oci/private/rules:structure_test.bzl", _oci_structure_test = "oci_structure_test")

apko_image = _apko_image
oci_image = _oci_image
oci_image_explain = _oci_image_explain
oci_image_index = _oci_image_index
oci_image_rule = _oci_image_rule
oci_layer = _oci_layer
oci_load = _oci_load
oci_push = _oci_push
oci_push_all = _oci_push_all
oci_push_all_rule = _oci_push_all_rule
oci_push_rule = _oci_push_rule
oci_push_verify = _oci_push_verify
oci_structure_test = _oci_structure_test
OciImageContentsInfo = _OciImageContentsInfo
OciImageInfo = _OciImageInfo
OciIndexInfo = _OciIndexInfo
OciLayerInfo = _OciLayerInfo
