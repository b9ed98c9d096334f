"""Unit tests of oci_pull's reference, platform and credential parsing."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//oci/private:pull.bzl", "check_tag", "parse_image", "parse_platform")
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

    # A tag beside a digest is kept for the tag check; the digest decides what is pulled.
    r = parse_image("ghcr.io/o/a:v1@" + _D, "", "t")
    asserts.equals(env, ("o/a", _D, "v1"), (r.repository, r.digest, r.tag))
    r = parse_image("ghcr.io/o/a", _D, "t", tag = "3.20_x-y")
    asserts.equals(env, ("o/a", "3.20_x-y", "ghcr.io/o/a@" + _D), (r.repository, r.tag, r.name))
    asserts.equals(env, "v1", parse_image("ghcr.io/o/a:v1", _D, "t", tag = "v1").tag)
    asserts.equals(env, "", parse_image("ghcr.io/o/a", _D, "t").tag)
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

def _fake_rctx(files, token_realm = "", token_service = "", env = {"HOME": "/home/u"}, programs = {}):
    """A repository context whose files are a dict and whose downloads and runs are recorded.

    files["token:" + url] is what a download of url gets (absent: it fails); programs maps a
    name on PATH to a function(stdin) -> struct(return_code, stdout, stderr).
    """
    calls = []

    def download(url, output, auth = {}, allow_fail = False, **kwargs):
        calls.append(struct(url = url, output = output, auth = auth, allow_fail = allow_fail, kwargs = kwargs))
        ok = ("token:" + url) in files
        if ok and "sha256" in kwargs and files.get("sha256:" + url) != kwargs["sha256"]:
            ok = False
        if ok:
            files[output] = files["token:" + url]
        return struct(success = ok, sha256 = files.get("sha256:" + url, ""))

    def execute(argv, **_kwargs):
        if argv[0] == "date":
            return struct(return_code = 0, stdout = "1700000000.%d\n" % len(calls), stderr = "")

        # argv is [sh, -c, 'exec "$0" get < "$1"', program, request file].
        stdin = files.get("docker-credential-request.txt")
        calls.append(struct(argv = argv, stdin = stdin))
        return programs[argv[3]](stdin)

    def file(p, content = "", **_kwargs):
        files[p] = content

    ctx = struct(
        getenv = lambda name: env.get(name),
        path = lambda p: struct(exists = p in files, p = p),
        read = lambda p: files[p.p if hasattr(p, "p") else p],
        download = download,
        execute = execute,
        file = file,
        which = lambda name: ("/bin/" + name) if name == "sh" or ("/bin/" + name) in programs else None,
        delete = lambda p: files.pop(p.p if hasattr(p, "p") else p),
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

def _helper(answers, log):
    """A docker-credential-* program answering per server, as the protocol does."""

    def run(stdin):
        server = stdin.strip()
        log.append(server)
        if server in answers:
            return struct(return_code = 0, stdout = json.encode(answers[server]), stderr = "")
        return struct(return_code = 1, stdout = "credentials not found in native keychain\n", stderr = "")

    return run

def _credential_helpers_impl(ctx):
    env = unittest.begin(ctx)
    log = []
    programs = {"/bin/docker-credential-fake": _helper({
        "helped.example.com": {"ServerURL": "helped.example.com", "Username": "hu", "Secret": "hs"},
        "stored.example.com": {"ServerURL": "stored.example.com", "Username": "su", "Secret": "ss"},
    }, log)}
    cfg = json.encode({
        "auths": {"auths.example.com": {"auth": "d2hhcmY6czNjcmV0OnB3"}, "helped.example.com": {"username": "not", "password": "used"}},
        "credHelpers": {"helped.example.com": "fake"},
    })

    # credHelpers before auths; the request file is gone afterwards.
    files = {"/home/u/.docker/config.json": cfg}
    rctx, calls = _fake_rctx(files, programs = programs)
    asserts.equals(env, {"type": "basic", "login": "hu", "password": "hs"}, authorization(rctx, parse_image("helped.example.com/a", _D, "t"), "t"))
    asserts.equals(env, ["helped.example.com"], log)
    asserts.equals(env, [], [f for f in files if "request" in f])
    asserts.equals(env, ["/bin/sh", "-c", 'exec "$0" get < "$1"', "/bin/docker-credential-fake"], calls[0].argv[:4])

    # Without a credsStore, auths for the others; the helper is not asked.
    asserts.equals(env, "wharf", authorization(rctx, parse_image("auths.example.com/a", _D, "t"), "t")["login"])
    asserts.equals(env, None, authorization(rctx, parse_image("stored.example.com/a", _D, "t"), "t"))
    asserts.equals(env, 1, len(log))

    # credsStore: asked for every registry; what it lacks falls back to auths.
    cfg = json.encode({
        "auths": {"auths.example.com": {"auth": "d2hhcmY6czNjcmV0OnB3"}},
        "credsStore": "fake",
    })
    rctx, calls = _fake_rctx({"/home/u/.docker/config.json": cfg}, programs = programs)
    asserts.equals(env, {"type": "basic", "login": "su", "password": "ss"}, authorization(rctx, parse_image("stored.example.com/a", _D, "t"), "t"))
    asserts.equals(env, "wharf", authorization(rctx, parse_image("auths.example.com/a", _D, "t"), "t")["login"])
    asserts.equals(env, None, authorization(rctx, parse_image("other.example.com/a", _D, "t"), "t"))
    asserts.equals(env, ["stored.example.com", "auths.example.com", "other.example.com"], log[1:])

    # Docker Hub's credsStore key is its v1 URL.
    token_url = "https://auth.docker.io/token?scope=repository:library/alpine:pull&service=registry.docker.io"
    rctx, calls = _fake_rctx({"/home/u/.docker/config.json": cfg, "token:" + token_url: json.encode({"token": "T"})}, programs = programs)
    authorization(rctx, parse_image("docker.io/alpine", _D, "t"), "t")
    asserts.equals(env, "https://index.docker.io/v1/", log[-1])
    return unittest.end(env)

credential_helpers_test = unittest.make(_credential_helpers_impl)

def _check_tag_impl(ctx):
    env = unittest.begin(ctx)
    other = "sha256:" + "cd" * 32

    # https: the tag's manifest without a checksum; its sha256 is what the tag names now.
    ref = parse_image("registry.example.com/a", _D, "t", tag = "v1")
    url = "https://registry.example.com/v2/a/manifests/v1"
    rctx, calls = _fake_rctx({"token:" + url: "{}", "sha256:" + url: _D[len("sha256:"):]})
    asserts.equals(env, _D, check_tag(rctx, ref, None, "t"))
    asserts.equals(env, [url], [c.url for c in calls])
    asserts.false(env, "sha256" in calls[0].kwargs, "the check must not be answered by the repository cache")
    asserts.true(env, calls[0].kwargs["headers"]["Accept"].startswith("application/vnd.oci.image.index.v1+json"))
    rctx, calls = _fake_rctx({"token:" + url: "{}", "sha256:" + url: other[len("sha256:"):]})
    asserts.equals(env, other, check_tag(rctx, ref, None, "t"))

    # Unreadable: "" (and a warning).
    rctx, calls = _fake_rctx({})
    asserts.equals(env, "", check_tag(rctx, ref, None, "t"))

    # Plain http: only checksummed downloads, each with a canonical id of its own so that
    # the repository cache cannot answer; a moved tag is told apart from an unreachable
    # registry by the pinned digest's manifest.
    ref = parse_image("127.0.0.1:5000/a", _D, "t", tag = "v1")
    url = "http://127.0.0.1:5000/v2/a/manifests/v1"
    by_digest = "http://127.0.0.1:5000/v2/a/manifests/" + _D
    hexd = _D[len("sha256:"):]
    rctx, calls = _fake_rctx({"token:" + url: "{}", "sha256:" + url: hexd})
    asserts.equals(env, _D, check_tag(rctx, ref, None, "t"))
    asserts.equals(env, [(url, hexd)], [(c.url, c.kwargs["sha256"]) for c in calls if hasattr(c, "url")])
    rctx, calls = _fake_rctx({"token:" + url: "{}", "sha256:" + url: other[len("sha256:"):], "token:" + by_digest: "{}", "sha256:" + by_digest: hexd})
    asserts.equals(env, "moved", check_tag(rctx, ref, None, "t"))
    downloads = [c for c in calls if hasattr(c, "url")]
    asserts.equals(env, [url, by_digest], [c.url for c in downloads])
    asserts.true(env, downloads[0].kwargs["canonical_id"] != downloads[1].kwargs["canonical_id"])
    rctx, calls = _fake_rctx({})
    asserts.equals(env, "", check_tag(rctx, ref, None, "t"))

    # No tag: nothing asked.
    rctx, calls = _fake_rctx({})
    asserts.equals(env, None, check_tag(rctx, parse_image("registry.example.com/a", _D, "t"), None, "t"))
    asserts.equals(env, 0, len(calls))
    return unittest.end(env)

check_tag_test = unittest.make(_check_tag_impl)
