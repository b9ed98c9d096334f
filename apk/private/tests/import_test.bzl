"""Unit tests of fetching locked APKs (apk_import's fetch_packages) with a fake repository context."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//apk/private/repository_rules:apk_import.bzl", "fetch_packages")

def _fake_rctx():
    """A repository context that records downloads and waits, in order; every download succeeds."""
    calls = []

    def download(url, output, allow_fail = False, block = True, **kwargs):
        calls.append(struct(call = "download", url = url[0], output = output, allow_fail = allow_fail, block = block, kwargs = kwargs))
        result = struct(success = True)

        def wait():
            calls.append(struct(call = "wait", output = output))
            return result

        return struct(wait = wait) if not block else result

    ctx = struct(
        os = struct(name = "linux", environ = {"HOME": "/home/u"}),
        getenv = lambda _name: None,
        path = lambda p: struct(exists = False, p = p),
        download = download,
        symlink = lambda _src, _dst: None,
    )
    return ctx, calls

def _package(name, url, dir = "", ranged = True):
    return struct(
        attrs = struct(
            package_name = name,
            version = "1.0-r0",
            arch = "x86_64",
            url = url,
            signature_range = "bytes=0-9" if ranged else "",
            signature_checksum = "sha1-S" if ranged else "",
            control_range = "bytes=10-19" if ranged else "",
            control_checksum = "sha1-C",
            data_range = "bytes=20-99" if ranged else "",
            data_checksum = "sha256-D" if ranged else "",
        ),
        source = None,
        dir = dir,
    )

def _concurrent_impl(ctx):
    env = unittest.begin(ctx)
    rctx, calls = _fake_rctx()
    builds = fetch_packages(rctx, [
        _package("a", "https://cdn/a.apk", "a_1.0-r0"),
        _package("b", "https://cdn/b.apk", "b_1.0-r0"),
    ])

    # Every member of every package is asked for before the first wait: one round trip for
    # the repository, not one per member.
    asserts.equals(env, ["download"] * 6 + ["wait"] * 6, [c.call for c in calls])
    downloads = [c for c in calls if c.call == "download"]
    asserts.equals(env, [False] * 6, [c.block for c in downloads])
    asserts.equals(env, [True] * 6, [c.allow_fail for c in downloads])
    asserts.equals(
        env,
        ["a_1.0-r0/signature.tar.gz", "a_1.0-r0/control.tar.gz", "a_1.0-r0/data.tar.gz", "b_1.0-r0/signature.tar.gz", "b_1.0-r0/control.tar.gz", "b_1.0-r0/data.tar.gz"],
        [c.output for c in downloads],
    )
    asserts.equals(env, [["bytes=0-9"], ["bytes=10-19"], ["bytes=20-"]], [c.kwargs["headers"]["Range"] for c in downloads[:3]])
    asserts.equals(env, ["sha1-S", "sha1-C", "sha256-D"], [c.kwargs["integrity"] for c in downloads[:3]])
    asserts.equals(env, 2, len(builds))
    asserts.true(env, "parts = [\"signature.tar.gz\", \"control.tar.gz\", \"data.tar.gz\"]" in builds[1])
    return unittest.end(env)

concurrent_fetch_test = unittest.make(_concurrent_impl)

def _whole_file_impl(ctx):
    env = unittest.begin(ctx)
    rctx, calls = _fake_rctx()
    p = _package("c", "https://alice:s3cr3t@cdn/c.apk", ranged = False)
    builds = fetch_packages(rctx, [p])
    asserts.equals(env, ["download", "wait"], [c.call for c in calls])
    asserts.equals(env, "package.apk", calls[0].output)
    asserts.equals(env, "", calls[0].kwargs.get("integrity"))
    asserts.false(env, calls[0].allow_fail)
    asserts.true(env, "parts = [\"package.apk\"]" in builds[0])

    # apk_package gets the record's fields of its own (APK_PACKAGE_RECORD_FIELDS), the URL
    # without the credentials a lock may hold (the SBOM records it).
    for line in ['package_name = "c"', 'version = "1.0-r0"', 'arch = "x86_64"', 'url = "https://cdn/c.apk"', 'control_checksum = "sha1-C"', 'data_checksum = ""', "head_parts = []", "data_size = 0"]:
        asserts.true(env, "\n    {},\n".format(line) in builds[0], line)
    return unittest.end(env)

whole_file_fetch_test = unittest.make(_whole_file_impl)
