"""Unit tests of oci_pull's reference, platform and credential parsing."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//oci/private:cosign.bzl", "signature_tag")
load("//oci/private:pull.bzl", "check_tag", "decode_config", "decode_manifest", "download_error", "image_named", "oci_pull_image_impl", "oci_pull_layers_impl", "parse_image", "parse_platform", "pick_platform", "summarize_platforms", "verify_signature")
load("//oci/private:pull_auth.bzl", "HELPER_TIMEOUT", "authorization", "b64decode_ascii", "docker_config_problem", "resolve_authorization")
load(":ecdsa_vectors.bzl", "ECDSA_VECTORS")

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

def _fake_rctx(files, token_realm = "", token_service = "", env = {"HOME": "/home/u"}, programs = {}, attrs = {}):
    """A repository context whose files are a dict and whose downloads and runs are recorded.

    files["token:" + url] is what a download of url gets (absent: it fails); programs maps a
    name on PATH to a function(stdin) -> struct(return_code, stdout, stderr); attrs are
    more of the rule's attributes.
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

    def execute(argv, **kwargs):
        if argv[0] == "date":
            return struct(return_code = 0, stdout = "1700000000.%d\n" % len(calls), stderr = "")

        # argv is [sh, -c, 'exec "$0" get < "$1"', program, request file].
        stdin = files.get("docker-credential-request.txt")
        calls.append(struct(argv = argv, stdin = stdin, kwargs = kwargs))
        return programs[argv[3]](stdin)

    def file(p, content = "", **_kwargs):
        files[p] = content

    ctx = struct(
        getenv = lambda name: env.get(name),
        os = struct(environ = env),
        path = lambda p: struct(exists = p in files, p = p),
        read = lambda p: files[p.p if hasattr(p, "p") else p],
        download = download,
        execute = execute,
        file = file,
        which = lambda name: ("/bin/" + name) if name == "sh" or ("/bin/" + name) in programs else None,
        delete = lambda p: files.pop(p.p if hasattr(p, "p") else p),
        attr = struct(token_realm = token_realm, token_service = token_service, **({"verify": [], "layers_repository": ""} | attrs)),
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

_INDEX = "application/vnd.oci.image.index.v1+json"
_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

def _index(manifests):
    return {"schemaVersion": 2, "mediaType": _INDEX, "manifests": manifests}

def _manifest(**fields):
    m = {"schemaVersion": 2, "mediaType": _MANIFEST, "config": {"digest": _D}, "layers": [{"digest": _D}]}
    m.update(fields)
    return m

def _manifest_errors():
    """(blob, the message after `oci_pull t: image REF: `) for blobs that are not as read."""
    ix = "index " + _D + ": "
    mf = "manifest " + _D + ": "
    return [
        ("{", "manifest or index " + _D + ": not valid JSON"),
        ([{"schemaVersion": 2}], "manifest or index " + _D + ": must be a JSON object, got a list"),
        ("null", "manifest or index " + _D + ": must be a JSON object, got null"),
        ({"schemaVersion": 2, "mediaType": 5}, "manifest or index " + _D + ": \"mediaType\" must be a string, got a number"),
        (_manifest(schemaVersion = "2"), mf + "schemaVersion is \"2\", want 2"),
        (_manifest(mediaType = "text/plain"), mf + "media type text/plain is neither an image manifest nor an index"),
        ({"schemaVersion": 2, "mediaType": _INDEX}, "index " + _D + " has no \"manifests\""),
        ({"schemaVersion": 2, "manifests": {}}, ix + "\"manifests\" must be a list, got an object"),
        (_index([[]]), ix + "manifests[0] must be an object, got a list"),
        (_index([{"digest": 1}]), ix + "manifests[0]: \"digest\" must be a string, got a number"),
        (_index([{"digest": "sha256:../../x"}]), ix + "manifests[0]: digest \"sha256:../../x\" is not sha256:<64 lowercase hex digits>"),
        (_index([{"digest": _D, "platform": "linux/amd64"}]), ix + "manifests[0]: \"platform\" must be an object, got a string"),
        (_index([{"digest": _D, "platform": {"os": ["linux"]}}]), ix + "manifests[0] platform: \"os\" must be a string, got a list"),
        ({"schemaVersion": 2}, "manifest " + _D + " has no \"config\""),
        (_manifest(config = []), mf + "\"config\" must be an object, got a list"),
        (_manifest(config = {"digest": None}), mf + "config has no \"digest\""),
        (_manifest(layers = {}), mf + "\"layers\" must be a list, got an object"),
        (_manifest(layers = ["sha256:x"]), mf + "layers[0] must be an object, got a string"),
        (_manifest(layers = [{"digest": _D, "urls": "https://x"}]), mf + "layers[0]: \"urls\" must be a list, got a string"),
    ]

def _decode_manifest_impl(ctx):
    env = unittest.begin(ctx)
    image = image_named("oci_pull t", parse_image("ghcr.io/o/a", _D, "t"))
    asserts.equals(env, "oci_pull t: image ghcr.io/o/a@" + _D, image)
    for blob, want in _manifest_errors():
        text = blob if type(blob) == "string" else json.encode(blob)
        asserts.equals(env, (None, None, image + ": " + want), decode_manifest(text, _D, image))

    # Without a media type, "manifests" tells an index; layers and urls may be absent.
    _, mt, err = decode_manifest(json.encode({"schemaVersion": 2, "manifests": []}), _D, image)
    asserts.equals(env, (_INDEX, None), (mt, err))
    _, mt, err = decode_manifest(json.encode({"schemaVersion": 2, "config": {"digest": _D}}), _D, image)
    asserts.equals(env, (_MANIFEST, None), (mt, err))

    # A config that is not an object, or whose platform fields are not strings.
    cfg = "config " + _D + ": "
    for text, want in [
        ("[]", cfg + "must be a JSON object, got a list"),
        ("x", cfg + "not valid JSON"),
        (json.encode({"os": "linux", "architecture": 64}), cfg + "\"architecture\" must be a string, got a number"),
    ]:
        asserts.equals(env, (None, image + ": " + want), decode_config(text, _D, image))
    got = decode_config(json.encode({"os": "linux", "architecture": "arm64", "variant": "v8", "config": {}}), _D, image)
    asserts.equals(env, ({"os": "linux", "architecture": "arm64", "variant": "v8"}, None), got)
    return unittest.end(env)

decode_manifest_test = unittest.make(_decode_manifest_impl)

def _pick_platform_impl(ctx):
    env = unittest.begin(ctx)
    image = image_named("oci_pull t", parse_image("ghcr.io/o/a", _D, "t"))
    other = "sha256:" + "cd" * 32
    index = _index([
        {"digest": other, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"digest": _D, "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": _D},
    ])
    asserts.equals(env, (other, None), pick_platform(index, _D, parse_platform("linux/arm64/v8", "t"), "linux/arm64/v8", image))
    asserts.equals(env, (_D, None), pick_platform(index, _D, parse_platform("linux/amd64", "t"), "linux/amd64", image))
    asserts.equals(
        env,
        (None, image + ": index " + _D + " has no image for linux/arm/v7; it has 3 entries for 2 platforms: linux/amd64, linux/arm64/v8"),
        pick_platform(index, _D, parse_platform("linux/arm/v7", "t"), "linux/arm/v7", image),
    )
    asserts.equals(
        env,
        (None, image + ": index " + _D + " (3 entries for 2 platforms: linux/amd64, linux/arm64/v8): give platforms (oci.pull) or platform (oci_pull_image) to pick"),
        pick_platform(index, _D, None, "", image),
    )
    asserts.equals(env, "1 entry, none with a platform", summarize_platforms([{"digest": _D}]))
    asserts.equals(env, "2 entries for 1 platform: linux/amd64", summarize_platforms(index["manifests"][1:2] * 2))

    # 20,000 entries (#26 item 16): the message was every platform, 859 KB; now the count and
    # the first few distinct platforms, sorted.
    many = _index([{"digest": _D, "platform": {"os": "linux", "architecture": "a%d" % (i % 5000)}} for i in range(20000)])
    _, _, err = decode_manifest(json.encode(many), _D, image)
    asserts.equals(env, None, err)
    _, err = pick_platform(many, _D, parse_platform("linux/amd64", "t"), "linux/amd64", image)
    want = (image + ": index " + _D + " has no image for linux/amd64; it has 20000 entries for 5000 platforms: " +
            "linux/a0, linux/a1, linux/a10, linux/a100, linux/a1000, linux/a1001, linux/a1002, linux/a1003, ... and 4992 more")
    asserts.equals(env, want, err)
    return unittest.end(env)

pick_platform_test = unittest.make(_pick_platform_impl)

def _pull_image_impl(ctx):
    env = unittest.begin(ctx)

    # An index, its arm64 manifest, config and two layers (one listed twice), as served.
    blobs = {}

    def serve(kind, doc):
        text = json.encode(doc)
        digest = "sha256:" + "0123456789"[len(blobs)] * 64  # a stand-in: the fake checks only that it serves it
        blobs[digest] = (kind, text)
        return digest, text

    layer1, _ = serve("blobs", "l1")
    layer2, _ = serve("blobs", "l2")
    config, _ = serve("blobs", {"os": "linux", "architecture": "arm64", "variant": "v8"})
    manifest, manifest_text = serve("manifests", _manifest(config = {"digest": config}, layers = [{"digest": layer1}, {"digest": layer2}, {"digest": layer1}]))
    index, _ = serve("manifests", _index([
        {"digest": _D, "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": manifest, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
    ]))
    files = {}
    base = "http://127.0.0.1:5000/v2/a/"
    for digest, (kind, text) in blobs.items():
        url = base + kind + "/" + digest
        files["token:" + url] = text
        files["sha256:" + url] = digest[len("sha256:"):]

    # A Docker config that is not JSON fails no pull that needs no credentials (#26 item 14).
    files["/home/u/.docker/config.json"] = '{"auths": {o}}'
    rctx, calls = _fake_rctx(files, attrs = dict(target_name = "base_linux_arm64_v8", image = "127.0.0.1:5000/a", digest = index, tag = "", platform = "linux/arm64/v8"))
    oci_pull_image_impl(rctx)
    asserts.equals(env, [base + "manifests/" + index, base + "manifests/" + manifest, base + "blobs/" + config, base + "blobs/" + layer1, base + "blobs/" + layer2], [c.url for c in calls])
    listed = json.decode(files["layout/index.json"])["manifests"]
    asserts.equals(env, [{
        "mediaType": _MANIFEST,
        "digest": manifest,
        "size": len(manifest_text),
        "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
    }], listed)
    asserts.equals(env, manifest, files["digest.txt"])
    return unittest.end(env)

pull_image_test = unittest.make(_pull_image_impl)

def _served_index():
    """An index, its amd64 manifest (3 layers, one twice), config and layers, as served."""
    blobs = {}

    def serve(kind, doc):
        digest = "sha256:" + "0123456789"[len(blobs)] * 64
        blobs[digest] = (kind, json.encode(doc))
        return digest

    layers = [serve("blobs", "l1"), serve("blobs", "l2")]
    config = serve("blobs", {"os": "linux", "architecture": "amd64"})
    manifest = serve("manifests", _manifest(config = {"digest": config}, layers = [{"digest": layers[0]}, {"digest": layers[1]}, {"digest": layers[0]}]))
    index = serve("manifests", _index([{"digest": manifest, "platform": {"os": "linux", "architecture": "amd64"}}]))
    base = "http://127.0.0.1:5000/v2/a/"
    files = {}
    for digest, (kind, text) in blobs.items():
        files["token:" + base + kind + "/" + digest] = text
        files["sha256:" + base + kind + "/" + digest] = digest[len("sha256:"):]
    return struct(files = files, base = base, index = index, manifest = manifest, config = config, layers = layers)

def _pull_shallow_impl(ctx):
    """Shallow pulls: the image's repository has no layer, its layers repository has them.

    The image repository fetches the index, manifest and config; the layers repository the
    layer blobs, each once; the image's layout selects them only under fetch_base_layers.
    """
    env = unittest.begin(ctx)
    s = _served_index()
    attrs = dict(target_name = "base_linux_amd64", image = "127.0.0.1:5000/a", digest = s.index, tag = "", platform = "linux/amd64")
    files = dict(s.files)
    rctx, calls = _fake_rctx(files, attrs = attrs | {"layers_repository": "base_linux_amd64_layers"})
    oci_pull_image_impl(rctx)
    asserts.equals(env, [s.base + "manifests/" + s.index, s.base + "manifests/" + s.manifest, s.base + "blobs/" + s.config], [c.url for c in calls])
    build = files["BUILD.bazel"]
    on = repr(str(Label("//oci/settings:fetch_base_layers_on")))
    for want in ["    shallow = True,\n", "        {}: [\"@base_linux_amd64_layers//:blobs\"],\n".format(on), "        \"//conditions:default\": [],\n"]:
        asserts.true(env, want in build, "BUILD.bazel lacks {}:\n{}".format(repr(want), build))
    asserts.equals(env, [], [f for f in files if type(f) == "string" and f.startswith("layout/blobs/") and f.endswith(s.layers[0][7:])])

    # The layers repository: the manifests again (the repository cache answers), then each
    # layer once; it keeps only the layers.
    files = dict(s.files)
    rctx, calls = _fake_rctx(files, attrs = attrs | {"name": "base_linux_amd64_layers"})
    oci_pull_layers_impl(rctx)
    asserts.equals(env, [s.base + "manifests/" + s.index, s.base + "manifests/" + s.manifest] + [s.base + "blobs/" + d for d in s.layers], [c.url for c in calls])
    blobs = ["layout/blobs/sha256/" + d[len("sha256:"):] for d in s.layers]
    asserts.equals(env, sorted(blobs), sorted([f for f in files if type(f) == "string" and f.startswith("layout/")]))
    asserts.true(env, "    srcs = {},\n".format(repr(blobs)) in files["BUILD.bazel"], files["BUILD.bazel"])

    # Pulled by the manifest's digest (no index): the same, one manifest fetched.
    files = dict(s.files)
    rctx, calls = _fake_rctx(files, attrs = attrs | {"name": "base_layers", "digest": s.manifest, "platform": ""})
    oci_pull_layers_impl(rctx)
    asserts.equals(env, [s.base + "manifests/" + s.manifest] + [s.base + "blobs/" + d for d in s.layers], [c.url for c in calls])
    asserts.equals(env, sorted(blobs), sorted([f for f in files if type(f) == "string" and f.startswith("layout/")]))
    return unittest.end(env)

pull_shallow_test = unittest.make(_pull_shallow_impl)

def _pull_verified_impl(ctx):
    """verify: the signature is checked before the image is pulled; the layout names the key."""
    env = unittest.begin(ctx)
    cosign = ECDSA_VECTORS["cosign"]
    image = cosign["image"]
    payload = [p for p in cosign["payloads"] if p["name"] == "image"][0]
    base = "https://registry.example.com/v2/wharf/base/"
    files = {}

    def serve(path, text, digest = None):
        files["token:" + base + path] = text
        if digest:
            files["sha256:" + base + path] = digest.partition(":")[2]

    serve("manifests/" + image, json.encode(_manifest(config = {"digest": "sha256:" + "c" * 64}, layers = [])), image)
    serve("blobs/sha256:" + "c" * 64, json.encode({"os": "linux", "architecture": "amd64"}), "sha256:" + "c" * 64)
    serve("manifests/" + signature_tag(image), json.encode({"schemaVersion": 2, "layers": [{
        "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
        "digest": payload["digest"],
        "annotations": {"dev.cosignproject.cosign/signature": payload["signature"]},
    }]}))
    serve("blobs/" + payload["digest"], payload["payload"], payload["digest"])
    key = Label("//keys:cosign.pub")
    files[key] = cosign["key_a"]
    rctx, calls = _fake_rctx(files, attrs = dict(target_name = "base", image = "registry.example.com/wharf/base", digest = image, tag = "", platform = "", verify = [key]))
    oci_pull_image_impl(rctx)
    urls = [c.url for c in calls]
    asserts.equals(env, [base + "referrers/" + image, base + "manifests/" + signature_tag(image), base + "blobs/" + payload["digest"], base + "manifests/" + image], urls[:4])
    asserts.equals(env, payload["digest"].partition(":")[2], calls[2].kwargs["sha256"])
    asserts.true(env, "    verified_by = {},\n".format(repr(str(key))) in files["BUILD.bazel"], files["BUILD.bazel"])
    asserts.equals(env, [], [f for f in files if type(f) == "string" and f.startswith("signatures/")])

    # From an index (the signed digest), a platform's repository checks the index's signature
    # (cosign signs what it is given; the index pins the manifest), then pulls its manifest.
    manifest = "sha256:" + "2" * 64
    serve("manifests/" + manifest, files["token:" + base + "manifests/" + image], manifest)
    serve("manifests/" + image, json.encode(_index([{"digest": manifest, "platform": {"os": "linux", "architecture": "amd64"}}])), image)
    rctx, calls = _fake_rctx(files, attrs = dict(target_name = "base_linux_amd64", image = "registry.example.com/wharf/base", digest = image, tag = "", platform = "linux/amd64", verify = [key]))
    oci_pull_image_impl(rctx)
    asserts.equals(env, [base + "referrers/" + image, base + "manifests/" + signature_tag(image), base + "blobs/" + payload["digest"], base + "manifests/" + image, base + "manifests/" + manifest], [c.url for c in calls][:5])
    asserts.equals(env, manifest, files["digest.txt"])

    # Plain http cannot carry verify: the signature's digest is not known before it is fetched.
    rctx, _ = _fake_rctx({}, attrs = dict(verify = [key]))
    ref = parse_image("127.0.0.1:5000/a", _D, "oci_pull a")
    want = "oci_pull a: image 127.0.0.1:5000/a@{}: verify needs the registry over https: Bazel downloads plain http only with a known checksum, and a signature's digest is not known before it is fetched".format(_D)
    asserts.equals(env, (None, want), verify_signature(rctx, ref, None, "oci_pull a"))

    # A key file that is no key is named before anything is fetched.
    files[key] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    rctx, calls = _fake_rctx(files, attrs = dict(verify = [key]))
    _, err = verify_signature(rctx, parse_image("registry.example.com/wharf/base", image, "oci_pull base"), None, "oci_pull base")
    asserts.equals(env, "oci_pull base: verify key {}: PEM block 1 is -----BEGIN CERTIFICATE-----, not -----BEGIN PUBLIC KEY-----: give the public key (`cosign public-key --key cosign.key`; of a certificate, `openssl x509 -pubkey -noout`)".format(key), err)
    asserts.equals(env, [], calls)
    return unittest.end(env)

pull_verified_test = unittest.make(_pull_verified_impl)

_HUB_TOKEN = "https://auth.docker.io/token?scope=repository:library/alpine:pull&service=registry.docker.io"

def _docker_config_errors_impl(ctx):
    """A Docker config that cannot be read fails no pull; a refused one names it (#26 item 14)."""
    env = unittest.begin(ctx)
    ref = parse_image("registry.example.com/a", _D, "t")
    url = "https://registry.example.com/v2/a/manifests/" + _D
    fetch = "t: could not fetch the manifest of registry.example.com/a@{} from {}: the registry has no such digest (check digest; oci_pull needs the digest of the manifest or index), wants credentials (~/.docker/config.json or $DOCKER_CONFIG, a bearer token realm: token_realm){}, or is unreachable; a download whose content does not match the digest fails the same way"
    for text, problem in [
        ('{"auths": {"registry.example.com": {"auth": "czNjcjN0LVRPS0VO"}, oops}}', "/home/u/.docker/config.json is not valid JSON"),
        ("[]", "/home/u/.docker/config.json is not a JSON object"),
        ("null", "/home/u/.docker/config.json is not a JSON object"),
        ('{"auths": []}', "/home/u/.docker/config.json: \"auths\" must be an object"),
        ('{"credHelpers": {}, "credsStore": 1}', "/home/u/.docker/config.json: \"credsStore\" must be a string"),
    ]:
        rctx, calls = _fake_rctx({"/home/u/.docker/config.json": text})
        asserts.equals(env, (None, None), resolve_authorization(rctx, ref, "t"))
        note = " (none of the Docker config's credentials were used: {})".format(problem)
        asserts.equals(env, note, docker_config_problem(rctx))
        asserts.equals(env, fetch.format(_D, url, note), download_error(rctx, "t", ref, "the manifest", url))

        # An anonymous token request that is refused says so too.
        rctx, calls = _fake_rctx({"/home/u/.docker/config.json": text})
        want = "t: could not get a pull token for registry-1.docker.io/library/alpine@{} from https://auth.docker.io/token (anonymously{}). Check the credentials in ~/.docker/config.json (or $DOCKER_CONFIG) for registry-1.docker.io.".format(_D, note)
        asserts.equals(env, (None, want), resolve_authorization(rctx, parse_image("docker.io/alpine", _D, "t"), "t"))
        asserts.equals(env, [_HUB_TOKEN], [c.url for c in calls])

    # A readable config: nothing added.
    rctx, _ = _fake_rctx({"/home/u/.docker/config.json": "{}"})
    asserts.equals(env, fetch.format(_D, url, ""), download_error(rctx, "t", ref, "the manifest", url))
    return unittest.end(env)

docker_config_errors_test = unittest.make(_docker_config_errors_impl)

def _docker_helper_limits_impl(ctx):
    """docker-credential-* programs: one limit for all helpers (#26 item 6), stdout never quoted (item 3), stderr with URL userinfo masked."""
    env = unittest.begin(ctx)
    ref = parse_image("helped.example.com/a", _D, "t")
    cfg = {"/home/u/.docker/config.json": json.encode({"credHelpers": {"helped.example.com": "fake"}})}
    what = "t: /home/u/.docker/config.json credHelpers[helped.example.com]: `docker-credential-fake get` for helped.example.com "
    answer = struct(return_code = 0, stdout = json.encode({"Username": "u", "Secret": "s"}), stderr = "")
    for environ, timeout in [({}, HELPER_TIMEOUT), ({"WHARF_CREDENTIAL_HELPER_TIMEOUT": "5"}, 5)]:
        environ = dict(environ, HOME = "/home/u")
        rctx, calls = _fake_rctx(dict(cfg), env = environ, programs = {"/bin/docker-credential-fake": lambda _stdin: answer})
        asserts.equals(env, {"type": "basic", "login": "u", "password": "s"}, authorization(rctx, ref, "t"))
        asserts.equals(env, timeout, calls[0].kwargs["timeout"])
    asserts.equals(env, 30, HELPER_TIMEOUT, "the same limit as tools/internal/credentials.HelperTimeout")

    # Bazel's answer for a run that it stopped at its limit.
    hang = struct(return_code = 256, stdout = "", stderr = "Timed out")
    rctx, _ = _fake_rctx(dict(cfg), programs = {"/bin/docker-credential-fake": lambda _stdin: hang})
    want = what + "gave no answer within 30s: stopped ($WHARF_CREDENTIAL_HELPER_TIMEOUT sets the limit in seconds)"
    asserts.equals(env, (None, want), resolve_authorization(rctx, ref, "t"))
    rctx, calls = _fake_rctx(dict(cfg), env = {"HOME": "/home/u", "WHARF_CREDENTIAL_HELPER_TIMEOUT": "10s"}, programs = {"/bin/docker-credential-fake": lambda _stdin: answer})
    want = "t: /home/u/.docker/config.json credHelpers[helped.example.com]: $WHARF_CREDENTIAL_HELPER_TIMEOUT is \"10s\": want a whole number of seconds above 0 (default 30)"
    asserts.equals(env, (None, want), resolve_authorization(rctx, ref, "t"))
    asserts.equals(env, 0, len(calls))

    # A failing helper: its stderr is quoted, never its stdout (which may be the secret).
    leak = struct(return_code = 1, stdout = json.encode({"Username": "u", "Secret": "s3cr3t-TOKEN-helper"}), stderr = "keychain is locked\n")
    rctx, _ = _fake_rctx(dict(cfg), programs = {"/bin/docker-credential-fake": lambda _stdin: leak})
    asserts.equals(env, (None, what + "failed (exit code 1): keychain is locked"), resolve_authorization(rctx, ref, "t"))

    # ... with URL userinfo masked, as push masks it (tools/internal/credentials).
    userinfo = struct(return_code = 1, stdout = "", stderr = "GET https://robot:s3cr3t-TOKEN-helper@vault.example.com/v1/creds: 403\nretry https://s3cr3t-TOKEN-helper@vault.example.com/\n")
    rctx, _ = _fake_rctx(dict(cfg), programs = {"/bin/docker-credential-fake": lambda _stdin: userinfo})
    asserts.equals(env, (None, what + "failed (exit code 1): GET https://robot:***@vault.example.com/v1/creds: 403\nretry https://***@vault.example.com/"), resolve_authorization(rctx, ref, "t"))
    silent = struct(return_code = 1, stdout = "s3cr3t-TOKEN-helper", stderr = "")
    rctx, _ = _fake_rctx(dict(cfg), programs = {"/bin/docker-credential-fake": lambda _stdin: silent})
    asserts.equals(env, (None, what + "failed (exit code 1): nothing on stderr; its stdout is not shown: it may hold credentials"), resolve_authorization(rctx, ref, "t"))
    return unittest.end(env)

docker_helper_limits_test = unittest.make(_docker_helper_limits_impl)
