"""Unit tests of where the apk extension puts each locked package (package_groups)."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//apk/private:translate.bzl", "package_groups")

def _kw(name, arch = "x86_64"):
    return {"package_name": name, "arch": arch}

def _placed(groups):
    return {content: (p.repo, p.dir) for content, p in groups.items()}

def _package_groups_test_impl(ctx):
    env = unittest.begin(ctx)

    # One repository per package and architecture; the content names the package inside.
    asserts.equals(env, {
        "apk_x86_64_glibc_2.40-r1_AAAA": ("apk_x86_64_glibc", "glibc_2.40-r1_AAAA"),
        "apk_aarch64_glibc_2.40-r1_BBBB": ("apk_aarch64_glibc", "glibc_2.40-r1_BBBB"),
    }, _placed(package_groups({
        "apk_x86_64_glibc_2.40-r1_AAAA": _kw("glibc"),
        "apk_aarch64_glibc_2.40-r1_BBBB": _kw("glibc", "aarch64"),
    })))

    # Two locks pin two versions: one repository still, so the set of names is the one a
    # single version gives, and each version keeps its own package (shared by content).
    asserts.equals(env, {
        "apk_x86_64_glibc_2.40-r1_AAAA": ("apk_x86_64_glibc", "glibc_2.40-r1_AAAA"),
        "apk_x86_64_glibc_2.41-r0_DDDD": ("apk_x86_64_glibc", "glibc_2.41-r0_DDDD"),
        "apk_x86_64_busybox_1.37-r0_CCCC": ("apk_x86_64_busybox", "busybox_1.37-r0_CCCC"),
    }, _placed(package_groups({
        "apk_x86_64_glibc_2.40-r1_AAAA": _kw("glibc"),
        "apk_x86_64_glibc_2.41-r0_DDDD": _kw("glibc"),
        "apk_x86_64_busybox_1.37-r0_CCCC": _kw("busybox"),
    })))

    # Two package names with the same repository characters share a repository, in
    # different packages.
    asserts.equals(env, {
        "apk_x86_64_a_b_1-r0_EEEE": ("apk_x86_64_a_b", "a_b_1-r0_EEEE"),
        "apk_x86_64_a_b_1-r0_FFFF": ("apk_x86_64_a_b", "a_b_1-r0_FFFF"),
    }, _placed(package_groups({
        "apk_x86_64_a_b_1-r0_EEEE": _kw("a+b"),
        "apk_x86_64_a_b_1-r0_FFFF": _kw("a_b"),
    })))
    return unittest.end(env)

package_groups_test = unittest.make(_package_groups_test_impl)
