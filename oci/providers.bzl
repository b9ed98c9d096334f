"""Providers of rules_wharf's image rules, for rules that produce or consume layers and images."""

load("//oci/private/providers:oci_image_contents_info.bzl", _OciImageContentsInfo = "OciImageContentsInfo")
load("//oci/private/providers:oci_image_contents_source_info.bzl", _OciImageContentsSourceInfo = "OciImageContentsSourceInfo")
load("//oci/private/providers:oci_image_info.bzl", _OciImageInfo = "OciImageInfo")
load("//oci/private/providers:oci_index_info.bzl", _OciIndexInfo = "OciIndexInfo")
load("//oci/private/providers:oci_layer_info.bzl", _OciLayerInfo = "OciLayerInfo")
load("//oci/private/providers:oci_push_info.bzl", _OciPushInfo = "OciPushInfo")

OciImageContentsInfo = _OciImageContentsInfo
OciImageContentsSourceInfo = _OciImageContentsSourceInfo
OciImageInfo = _OciImageInfo
OciIndexInfo = _OciIndexInfo
OciLayerInfo = _OciLayerInfo
OciPushInfo = _OciPushInfo
