"""Checks that the legacy WORKSPACE entry points load and name real targets."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//:repositories.bzl", "rules_wharf_dependencies", "rules_wharf_register_toolchains")
load("//apk:repositories.bzl", "translate_lock")
load("//oci:pull.bzl", "oci_pull")

def _impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "function", type(rules_wharf_register_toolchains))
    asserts.equals(env, "function", type(rules_wharf_dependencies))
    asserts.equals(env, "repository_rule", type(translate_lock))
    asserts.equals(env, "function", type(oci_pull))
    asserts.true(env, ctx.attr.toolchain != None, "the registered toolchain target resolves")
    return unittest.end(env)

legacy_macros_test = unittest.make(
    _impl,
    attrs = {"toolchain": attr.label(default = "@rules_wharf_tools//:source_toolchain")},
)
