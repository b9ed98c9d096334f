"""WORKSPACE entry points of the apk rules. bzlmod users use `apk.translate_lock` (extensions.bzl).

See docs/workspace.md.
"""

load("//apk/private/repository_rules:translate_lock.bzl", _translate_lock = "translate_lock_rule")

translate_lock = _translate_lock
