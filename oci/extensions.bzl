"""The `oci` module extension (bzlmod): `oci.pull(name, image, digest, platforms)`."""

load("//oci/private:pull_extension.bzl", _oci = "oci")

oci = _oci
