"""Unit tests of oci_pull's reference, platform and credential parsing."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//oci/private:pull.bzl", "parse_image", "parse_platform")
load("//oci/private:pull_auth.bzl", "authorization", "b64decode_ascii")

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

    # A tag beside a digest is ignored: the digest decides.
    r = parse_image("ghcr.io/o/a:v1@" + _D, "", "t")
    asserts.equals(env, ("o/a", _D), (r.repository, r.digest))
    asserts.equals(env, "a", parse_image("127.0.0.1:5000/a:v1", _D, "t").repository)
    asserts.equals(env, ("http", "[::1]:5000"), (parse_image("[::1]:5000/a", _D, "t").scheme, parse_image("[::1]:5000/a", _D, "t").registry))

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

def _fake_rctx(files, token_realm = "", token_service = "", env = {"HOME": "/home/u"}):
    """A repository context whose files are a dict and whose downloads are recorded."""
    calls = []

    def download(url, output, auth = {}, allow_fail = False):
        calls.append(struct(url = url, output = output, auth = auth, allow_fail = allow_fail))
        files[output] = files.get("token:" + url, "")
        return struct(success = ("token:" + url) in files)

    ctx = struct(
        getenv = lambda name: env.get(name),
        path = lambda p: struct(exists = p in files, p = p),
        read = lambda p: files[p.p if hasattr(p, "p") else p],
        download = download,
        delete = lambda p: files.pop(p),
        attr = struct(token_realm = token_realm, token_service = token_service),
    )
    return ctx, calls

def _authorization_impl(ctx):
    env = unittest.begin(ctx)

    # No docker config, no token server: anonymous.
    rctx, calls = _fake_rctx({})
    asserts.equals(env, None, authorization(rctx, parse_image("127.0.0.1:5000/a", _D, "t"), "t"))
    asserts.equals(env, 0, len(calls))

    # Basic credentials, base64 `auth` or username/password, by registry host.
    cfg = json.encode({"auths": {
        "127.0.0.1:5000": {"auth": "d2hhcmY6czNjcmV0OnB3"},
        "https://registry.example.com": {"username": "u", "password": "p"},
    }})
    rctx, calls = _fake_rctx({"/home/u/.docker/config.json": cfg})
    asserts.equals(env, {"type": "basic", "login": "wharf", "password": "s3cret:pw"}, authorization(rctx, parse_image("127.0.0.1:5000/a", _D, "t"), "t"))
    asserts.equals(env, {"type": "basic", "login": "u", "password": "p"}, authorization(rctx, parse_image("registry.example.com/a/b", _D, "t"), "t"))
    asserts.equals(env, None, authorization(rctx, parse_image("other.example.com/a", _D, "t"), "t"))

    # $DOCKER_CONFIG wins over ~/.docker.
    rctx, calls = _fake_rctx({"/cfg/config.json": cfg}, env = {"HOME": "/home/u", "DOCKER_CONFIG": "/cfg"})
    asserts.equals(env, "wharf", authorization(rctx, parse_image("127.0.0.1:5000/a", _D, "t"), "t")["login"])

    # Bearer: Docker Hub is built in; the token is asked for anonymously, with scope and service.
    token_url = "https://auth.docker.io/token?scope=repository:library/alpine:pull&service=registry.docker.io"
    rctx, calls = _fake_rctx({"token:" + token_url: json.encode({"token": "T1"})})
    got = authorization(rctx, parse_image("docker.io/alpine", _D, "t"), "t")
    asserts.equals(env, {"type": "pattern", "pattern": "Bearer <password>", "password": "T1"}, got)
    asserts.equals(env, [token_url], [c.url for c in calls])
    asserts.equals(env, {}, calls[0].auth)
    asserts.true(env, calls[0].allow_fail, "a failed token request is reported by oci_pull, naming the image")

    # A given realm, with the docker config's basic credentials sent to it; access_token form.
    token_url = "https://auth.example.com/t?scope=repository:a/b:pull&service=reg"
    rctx, calls = _fake_rctx(
        {"/home/u/.docker/config.json": cfg, "token:" + token_url: json.encode({"access_token": "T2"})},
        token_realm = "https://auth.example.com/t",
        token_service = "reg",
    )
    got = authorization(rctx, parse_image("registry.example.com/a/b", _D, "t"), "t")
    asserts.equals(env, "T2", got["password"])
    asserts.equals(env, {token_url: {"type": "basic", "login": "u", "password": "p"}}, calls[0].auth)
    return unittest.end(env)

authorization_test = unittest.make(_authorization_impl)
