"""WORKSPACE entry points of the apk rules. bzlmod users use `apk.translate_lock` (extensions.bzl).

See docs/workspace.md.
"""

load("//apk/private/repository_rules:translate_lock.bzl", _translate_lock = "translate_lock_rule")
load("//apk/private/repository_rules:vulnerability_database.bzl", _apk_vulnerability_database = "apk_vulnerability_database")

translate_lock = _translate_lock

# Also for bzlmod: use_repo_rule("@rules_wharf//apk:repositories.bzl", "apk_vulnerability_database").
apk_vulnerability_database = _apk_vulnerability_database
