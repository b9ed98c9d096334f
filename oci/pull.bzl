"""oci_pull for WORKSPACE: pull an image by digest. With bzlmod use `//oci:extensions.bzl`."""

load("//oci/private:pull.bzl", _oci_pull = "oci_pull", _oci_pull_hub = "oci_pull_hub", _oci_pull_image = "oci_pull_image", _oci_pull_layers = "oci_pull_layers")

oci_pull = _oci_pull
oci_pull_image = _oci_pull_image
oci_pull_layers = _oci_pull_layers
oci_pull_hub = _oci_pull_hub
