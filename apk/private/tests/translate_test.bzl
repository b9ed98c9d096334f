"""Unit tests of the package repository names the apk extension gives (stable_package_repos)."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//apk/private:translate.bzl", "stable_package_repos")

def _kw(name, arch = "x86_64"):
    return {"package_name": name, "arch": arch}

def _stable_names_test_impl(ctx):
    env = unittest.begin(ctx)

    # One version per package and architecture: named by package, so a version change keeps the name.
    asserts.equals(env, {
        "apk_x86_64_glibc_2.40-r1_AAAA": "apk_x86_64_glibc",
        "apk_aarch64_glibc_2.40-r1_BBBB": "apk_aarch64_glibc",
    }, stable_package_repos({
        "apk_x86_64_glibc_2.40-r1_AAAA": _kw("glibc"),
        "apk_aarch64_glibc_2.40-r1_BBBB": _kw("glibc", "aarch64"),
    }))

    # Two locks pin two versions: both keep their content names (and stay shared by content).
    asserts.equals(env, {"apk_x86_64_busybox_1.37-r0_CCCC": "apk_x86_64_busybox"}, stable_package_repos({
        "apk_x86_64_glibc_2.40-r1_AAAA": _kw("glibc"),
        "apk_x86_64_glibc_2.41-r0_DDDD": _kw("glibc"),
        "apk_x86_64_busybox_1.37-r0_CCCC": _kw("busybox"),
    }))

    # Two package names with the same repository characters: neither gets the shared name.
    asserts.equals(env, {}, stable_package_repos({
        "apk_x86_64_a_b_1-r0_EEEE": _kw("a+b"),
        "apk_x86_64_a_b_1-r0_FFFF": _kw("a_b"),
    }))

    # A name that is another repository's content name is not taken: package "y_1-r0_U"
    # would get the name that package "y" 1-r0 has by content.
    asserts.equals(env, {"apk_x86_64_y_1-r0_U": "apk_x86_64_y"}, stable_package_repos({
        "apk_x86_64_y_1-r0_U": _kw("y"),
        "apk_x86_64_y_1-r0_U_2-r0_V": _kw("y_1-r0_U"),
    }))
    return unittest.end(env)

stable_names_test = unittest.make(_stable_names_test_impl)
