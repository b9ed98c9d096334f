"""Unit tests of the platforms table (//platforms:platforms.bzl) and its readers."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//oci/private:pull.bzl", "parse_platform")
load("//platforms:platforms.bzl", "PLATFORMS", "PLATFORMS_BY_APK_ARCH", "PLATFORMS_BY_OCI_ARCH", "exec_constraints")

def _table_impl(ctx):
    env = unittest.begin(ctx)

    # Every spelling names one entry.
    for key in ["name", "apk_arch"]:
        values = [getattr(p, key) for p in PLATFORMS]
        asserts.equals(env, len(values), len({v: None for v in values}), "duplicate " + key)
    asserts.equals(env, len(PLATFORMS), len(PLATFORMS_BY_OCI_ARCH))
    asserts.equals(env, len(PLATFORMS), len(PLATFORMS_BY_APK_ARCH))

    # The platforms every copy of the table had before it was one table, plus apk's x86.
    asserts.equals(
        env,
        sorted(["linux_amd64", "linux_arm64", "linux_arm", "linux_ppc64le", "linux_riscv64", "linux_s390x", "linux_386"]),
        sorted([p.name for p in PLATFORMS]),
    )
    for apk_arch, oci, cpu in [
        ("x86_64", ("amd64", ""), "x86_64"),
        ("aarch64", ("arm64", "v8"), "aarch64"),
        ("armv7", ("arm", "v7"), "armv7"),
        ("ppc64le", ("ppc64le", ""), "ppc64le"),
        ("riscv64", ("riscv64", ""), "riscv64"),
        ("s390x", ("s390x", ""), "s390x"),
        ("x86", ("386", ""), "x86_32"),
    ]:
        p = PLATFORMS_BY_APK_ARCH[apk_arch]
        asserts.equals(env, oci, (p.arch, p.variant))
        asserts.equals(env, Label("@platforms//cpu:" + cpu), p.cpu_constraint)

    # oci_pull reads the same table.
    asserts.equals(env, str(Label("@platforms//cpu:x86_32")), parse_platform("linux/386", "t").constraints[1])
    asserts.equals(env, str(Label("@platforms//cpu:riscv64")), parse_platform("linux/riscv64", "t").constraints[1])

    # The prebuilt tool's exec platforms, by Go's GOOS/GOARCH, from the same CPU column.
    asserts.equals(env, [Label("@platforms//os:osx"), Label("@platforms//cpu:aarch64")], exec_constraints("darwin", "arm64"))
    asserts.equals(env, [Label("@platforms//os:windows"), Label("@platforms//cpu:x86_64")], exec_constraints("windows", "amd64"))
    asserts.equals(env, [Label("@platforms//os:linux"), Label("@platforms//cpu:s390x")], exec_constraints("linux", "s390x"))
    asserts.equals(env, None, exec_constraints("plan9", "amd64"))
    asserts.equals(env, None, exec_constraints("linux", "arm"))
    return unittest.end(env)

platforms_table_test = unittest.make(_table_impl)
