"""The `apk` module extension (bzlmod): `apk.translate_lock(name, lock)`."""

load("//apk/private/extensions:apk.bzl", _apk = "apk")

apk = _apk
