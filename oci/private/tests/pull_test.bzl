"""Unit tests of oci_pull's reference, platform and credential parsing."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//oci/private:pull.bzl", "b64decode_ascii", "parse_image", "parse_platform")

_D = "sha256:" + "ab" * 32

def _parse_image_impl(ctx):
    env = unittest.begin(ctx)
    r = parse_image("127.0.0.1:5000/wharf/hello", _D, "t")
    asserts.equals(env, ("http", "127.0.0.1:5000", "wharf/hello", _D), (r.scheme, r.registry, r.repository, r.digest))
    asserts.equals(env, "127.0.0.1:5000/wharf/hello@" + _D, r.name)
    r = parse_image("gcr.io/distroless/static@" + _D, "", "t")
    asserts.equals(env, ("https", "gcr.io", "distroless/static", _D), (r.scheme, r.registry, r.repository, r.digest))
    r = parse_image("docker.io/alpine", _D, "t")
    asserts.equals(env, ("https", "registry-1.docker.io", "library/alpine"), (r.scheme, r.registry, r.repository))
    r = parse_image("http://registry.internal:5000/a/b", _D, "t")
    asserts.equals(env, ("http", "registry.internal:5000", "a/b"), (r.scheme, r.registry, r.repository))
    r = parse_image("localhost:5000/a", _D, "t")
    asserts.equals(env, "http", r.scheme)

    # The same digest in both places is fine.
    asserts.equals(env, _D, parse_image("ghcr.io/o/a@" + _D, _D, "t").digest)
    return unittest.end(env)

parse_image_test = unittest.make(_parse_image_impl)

def _parse_platform_impl(ctx):
    env = unittest.begin(ctx)
    p = parse_platform("linux/arm64/v8", "t")
    asserts.equals(env, ("linux", "arm64", "v8", "linux_arm64_v8"), (p.os, p.arch, p.variant, p.key))
    asserts.equals(env, [str(Label("@platforms//os:linux")), str(Label("@platforms//cpu:aarch64"))], p.constraints)
    p = parse_platform("linux/arm/v7", "t")
    asserts.equals(env, str(Label("@platforms//cpu:armv7")), p.constraints[1])
    p = parse_platform("linux/amd64", "t")
    asserts.equals(env, ("", "linux_amd64", str(Label("@platforms//cpu:x86_64"))), (p.variant, p.key, p.constraints[1]))
    return unittest.end(env)

parse_platform_test = unittest.make(_parse_platform_impl)

def _b64_impl(ctx):
    env = unittest.begin(ctx)

    # Padding 0, 1 and 2, and the docker config form user:password.
    asserts.equals(env, "wharf:s3cret:pw", b64decode_ascii("d2hhcmY6czNjcmV0OnB3", "t"))
    asserts.equals(env, "ab", b64decode_ascii("YWI=", "t"))
    asserts.equals(env, "a", b64decode_ascii("YQ==", "t"))
    asserts.equals(env, "~ +/", b64decode_ascii("fiArLw==", "t"))
    return unittest.end(env)

b64_test = unittest.make(_b64_impl)
