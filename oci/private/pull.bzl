"""oci_pull: an image from a registry, pulled by digest in the repository phase.

Credentials and tokens are pull_auth.bzl's business; this file fetches and lays out.
"""

load("//platforms:platforms.bzl", "PLATFORMS_BY_OCI_ARCH", "oci_platform_key")
load(":pull_auth.bzl", "authorization")

_MANIFEST_TYPES = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
]
_INDEX_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
]

# The registry picks what it sends by Accept; without it some send a converted (schema 1)
# manifest, whose digest is not the one asked for.
_HEADERS = {
    "Accept": ", ".join(_INDEX_TYPES + _MANIFEST_TYPES),
    "Docker-Distribution-API-Version": "registry/2.0",
}

_TAG_FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

def _check_tag(tag, image, who):
    # The OCI distribution spec's tag grammar: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
    if len(tag) > 128 or not all([c in _TAG_FIRST + ".-" for c in tag.elems()]) or tag[0] not in _TAG_FIRST.elems():
        fail("{}: image {}: tag {} is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]*, at most 128 characters)".format(who, image, repr(tag)))

def parse_image(image, digest, who, tag = ""):
    """Splits `[http(s)://]registry/repository[:tag][@sha256:...]`; a tag without a digest fails.

    Args:
      image: the image reference.
      digest: the digest attribute ("" if the digest is part of `image`).
      who: what to name in errors.
      tag: the tag attribute ("" if none; a tag in `image` counts too).

    Returns:
      struct(scheme, registry, repository, digest, tag, name).
    """
    scheme = ""
    rest = image
    for s in ["http", "https"]:
        if rest.startswith(s + "://"):
            scheme = s
            rest = rest[len(s) + 3:]
    rest, at, inline = rest.partition("@")
    if at:
        if digest and digest != inline:
            fail("{}: image {} names digest {}, but digest = {}".format(who, image, inline, digest))
        digest = inline
    registry, slash, repository = rest.partition("/")
    if not slash or not repository or not ("." in registry or ":" in registry or registry == "localhost"):
        fail("{}: image {} must be REGISTRY/REPOSITORY (e.g. index.docker.io/library/alpine, ghcr.io/org/app, 127.0.0.1:5000/app)".format(who, image))
    parent, _, last = repository.rpartition("/")
    if ":" in last:
        name, _, inline_tag = last.partition(":")
        if tag and tag != inline_tag:
            fail("{}: image {} names tag {}, but tag = {}".format(who, image, inline_tag, tag))
        tag = inline_tag
        repository = (parent + "/" if parent else "") + name
    if tag:
        _check_tag(tag, image, who)
    if tag and not digest:
        fail("{}: image {} has a tag ({}) and no digest; oci_pull pulls by digest only: give digest = \"sha256:...\" beside the tag (get it with `crane digest {}`)".format(
            who,
            image,
            tag,
            "{}/{}:{}".format(registry, repository, tag),
        ))
    if not digest:
        fail("{}: image {} has no digest; oci_pull pulls by digest only: give digest = \"sha256:...\"".format(who, image))
    algo, _, hex = digest.partition(":")
    if algo != "sha256" or len(hex) != 64 or hex.lower() != hex or not all([c in "0123456789abcdef" for c in hex.elems()]):
        fail("{}: image {}: digest {} is not sha256:<64 lowercase hex digits>".format(who, image, digest))
    if registry == "docker.io" or registry == "index.docker.io":
        registry = "registry-1.docker.io"
        if "/" not in repository:
            repository = "library/" + repository
    host = registry.partition("]")[0] + "]" if registry.startswith("[") else registry.partition(":")[0]
    if not scheme:
        scheme = "http" if host in ["localhost", "127.0.0.1", "[::1]"] else "https"
    return struct(
        scheme = scheme,
        registry = registry,
        repository = repository,
        digest = digest,
        tag = tag,
        name = "{}/{}@{}".format(registry, repository, digest),
    )

def parse_platform(p, who):
    """Parses an OCI platform.

    Args:
      p: `os/arch[/variant]`.
      who: what to name in errors.

    Returns:
      struct(os, arch, variant, key, constraints): key is `os_arch[_variant]`, constraints the
      @platforms constraint values' labels.
    """
    parts = p.split("/")
    if len(parts) < 2 or len(parts) > 3 or not all(parts):
        fail("{}: platform {} must be os/arch or os/arch/variant, e.g. linux/amd64, linux/arm64/v8".format(who, p))
    os, arch = parts[0], parts[1]
    variant = parts[2] if len(parts) == 3 else ""
    known = PLATFORMS_BY_OCI_ARCH.get(oci_platform_key(arch, variant))
    if not known or known.os != os:
        fail("{}: platform {}: rules_wharf builds images for {} on {}".format(
            who,
            p,
            sorted({k.os: None for k in PLATFORMS_BY_OCI_ARCH.values()}.keys()),
            sorted(PLATFORMS_BY_OCI_ARCH.keys()),
        ))
    return struct(
        os = os,
        arch = arch,
        variant = variant,
        key = "_".join(parts),
        constraints = [
            str(known.os_constraint),
            str(known.cpu_constraint),
        ],
    )

def _url(ref, kind, digest):
    return "{}://{}/v2/{}/{}/{}".format(ref.scheme, ref.registry, ref.repository, kind, digest)

def _blob_path(digest):
    algo, _, hex = digest.partition(":")
    if algo != "sha256" or len(hex) != 64:
        fail("digest {}: only sha256 is supported".format(digest))
    return "layout/blobs/sha256/" + hex

def _download(rctx, ref, auth, kind, digest, block = True):
    url = _url(ref, kind, digest)
    kwargs = {}
    if kind == "manifests":
        kwargs["headers"] = _HEADERS
    if not block:
        kwargs["block"] = False
    return url, rctx.download(
        url = url,
        output = _blob_path(digest),
        sha256 = digest.partition(":")[2],
        auth = {url: auth} if auth else {},
        allow_fail = True,
        **kwargs
    )

def _download_error(who, ref, what, url):
    return ("{who}: could not fetch {what} of {image} from {url}: the registry has no such digest " +
            "(check digest; oci_pull needs the digest of the manifest or index), wants credentials " +
            "(~/.docker/config.json or $DOCKER_CONFIG, a bearer token realm: token_realm), or is unreachable; " +
            "a download whose content does not match the digest fails the same way").format(who = who, what = what, image = ref.name, url = url)

def _fetch_json(rctx, ref, auth, digest, who, what):
    url, r = _download(rctx, ref, auth, "manifests", digest)
    if not r.success:
        fail(_download_error(who, ref, what, url))
    doc = json.decode(rctx.read(_blob_path(digest)))
    if doc.get("schemaVersion") != 2:
        fail("{}: {} of {} has schemaVersion {}, want 2".format(who, what, ref.name, doc.get("schemaVersion")))
    mt = doc.get("mediaType", "")
    if not mt:
        mt = _INDEX_TYPES[0] if "manifests" in doc else _MANIFEST_TYPES[0]
    if mt not in _INDEX_TYPES + _MANIFEST_TYPES:
        fail("{}: {} of {} has media type {}, neither an image manifest nor an index".format(who, what, ref.name, mt))
    return doc, mt, len(rctx.read(_blob_path(digest)))

def check_tag(rctx, ref, auth, who):
    """Warns when the tag no longer names the pinned digest; the digest is pulled either way.

    https: the tag's manifest is downloaded without a checksum (so no cache answers for the
    registry) and Bazel reports the sha256 of what came: the digest the tag names now.
    Plain http: Bazel downloads only with a checksum, so the pinned digest is the checksum,
    under a `canonical_id` no repository cache entry has (the registry must answer). A
    failure is then told apart from an unreachable registry by fetching the pinned digest
    the same way.

    Args:
      rctx: the repository context.
      ref: parse_image's result, with a tag.
      auth: authorization's result.
      who: what to name in messages.

    Returns:
      The digest the tag names now; "moved" when (plain http) it names another one; "" if
      the registry could not be asked; None without a tag.
    """
    if not ref.tag:
        return None
    image = "{}/{}:{}".format(ref.registry, ref.repository, ref.tag)
    out = "tag-check.json"

    def get(url, checked):
        kwargs = dict(url = url, output = out, headers = _HEADERS, auth = {url: auth} if auth else {}, allow_fail = True)
        if checked:
            kwargs["sha256"] = ref.digest.partition(":")[2]
            kwargs["canonical_id"] = "oci_pull tag check {} {}".format(url, _nonce(rctx))
        r = rctx.download(**kwargs)
        if rctx.path(out).exists:
            rctx.delete(out)
        return r

    url = _url(ref, "manifests", ref.tag)
    if ref.scheme == "https":
        r = get(url, False)
        now = "sha256:" + r.sha256 if r.success else ""
    elif get(url, True).success:
        now = ref.digest
    elif get(_url(ref, "manifests", ref.digest), True).success:
        now = "moved"
    else:
        now = ""
    if not now:
        print("WARNING: {}: could not read tag {} ({}) to compare it with the pinned digest {}; the pinned digest is pulled.".format(who, image, url, ref.digest))  # buildifier: disable=print
    elif now == "moved":
        print("WARNING: {}: tag {} no longer names the pinned digest {} (it was moved or deleted); the pinned digest is pulled. `crane digest {}` gives the tag's digest now.".format(who, image, ref.digest, image))  # buildifier: disable=print
    elif now != ref.digest:
        print("WARNING: {}: tag {} names {} now, not the pinned digest {}; the pinned digest is pulled. To follow the tag, set digest = \"{}\".".format(who, image, now, ref.digest, now))  # buildifier: disable=print
    return now

def _nonce(rctx):
    # Different on every fetch, so that no repository cache entry carries this canonical id.
    r = rctx.execute(["date", "+%s.%N"])
    return r.stdout.strip() if r.return_code == 0 else ""

def _platform_string(p):
    return "/".join([p.get("os", "?"), p.get("architecture", "?")] + ([p["variant"]] if p.get("variant") else []))

def _oci_pull_image_impl(rctx):
    who = "oci_pull " + rctx.attr.target_name
    ref = parse_image(rctx.attr.image, rctx.attr.digest, who, rctx.attr.tag)
    want = parse_platform(rctx.attr.platform, who) if rctx.attr.platform else None
    auth = authorization(rctx, ref, who)
    if not rctx.attr.platform:
        # With platforms, the hub checks the tag once for all of them.
        check_tag(rctx, ref, auth, who)

    doc, mt, size = _fetch_json(rctx, ref, auth, ref.digest, who, "the manifest")
    digest = ref.digest
    if mt in _INDEX_TYPES:
        available = [_platform_string(m.get("platform", {})) for m in doc.get("manifests", []) if m.get("platform")]
        if not want:
            fail("{}: {} is an index of {}; give platforms (oci.pull) or platform (oci_pull_image) to pick".format(who, ref.name, available))
        picked = [
            m
            for m in doc.get("manifests", [])
            if m.get("platform", {}).get("os") == want.os and m.get("platform", {}).get("architecture") == want.arch and
               (not want.variant or not m["platform"].get("variant") or m["platform"]["variant"] == want.variant)
        ]
        if not picked:
            fail("{}: {} has no image for {}; it has {}".format(who, ref.name, rctx.attr.platform, available))
        if len(picked) > 1:
            fail("{}: {} has {} images for {}".format(who, ref.name, len(picked), rctx.attr.platform))
        digest = picked[0]["digest"]
        doc, mt, size = _fetch_json(rctx, ref, auth, digest, who, "the {} manifest".format(rctx.attr.platform))
        if mt not in _MANIFEST_TYPES:
            fail("{}: the {} entry of {} is not an image manifest ({})".format(who, rctx.attr.platform, ref.name, mt))

    config_digest = doc["config"]["digest"]
    url, r = _download(rctx, ref, auth, "blobs", config_digest)
    if not r.success:
        fail(_download_error(who, ref, "config " + config_digest, url))
    config = json.decode(rctx.read(_blob_path(config_digest)))
    platform = {"os": config.get("os", ""), "architecture": config.get("architecture", "")}
    if config.get("variant"):
        platform["variant"] = config["variant"]
    if want and (platform["os"] != want.os or platform["architecture"] != want.arch):
        fail("{}: {} ({}) is an image for {}, not {}".format(who, ref.name, digest, _platform_string(platform), rctx.attr.platform))

    pending = {}
    for layer in doc.get("layers", []):
        d = layer["digest"]
        if d in pending:
            continue
        if layer.get("urls"):
            fail("{}: {}: layer {} is a foreign (non-distributable) layer, which oci_pull does not fetch".format(who, ref.name, d))
        pending[d] = _download(rctx, ref, auth, "blobs", d, block = False)
    for d, (url, r) in pending.items():
        if hasattr(r, "wait"):
            r = r.wait()
        if not r.success:
            fail(_download_error(who, ref, "layer " + d, url))

    rctx.file("layout/oci-layout", json.encode({"imageLayoutVersion": "1.0.0"}) + "\n")
    rctx.file("layout/index.json", json.encode_indent({
        "schemaVersion": 2,
        "mediaType": _INDEX_TYPES[0],
        "manifests": [{
            "mediaType": mt,
            "digest": digest,
            "size": size,
            "platform": platform,
            "annotations": {"org.opencontainers.image.ref.name": "latest"},
        }],
    }) + "\n")
    rctx.file("BUILD.bazel", """\
load("{bzl}", "oci_pulled_layout")

# Pulled from {image} ({platform}). Generated by oci_pull.
oci_pulled_layout(
    name = {name},
    srcs = glob(["layout/**"]),
    image = {ref},
    repository = {repository},
    visibility = ["//visibility:public"],
)

filegroup(
    name = "digest",
    srcs = ["digest.txt"],
    visibility = ["//visibility:public"],
)
""".format(
        bzl = str(Label("//oci/private/rules:pulled_layout.bzl")),
        image = ref.name,
        platform = _platform_string(platform),
        name = repr(rctx.attr.target_name),
        ref = repr(ref.name),
        # As registries name themselves to clients (go-containerregistry's name for Docker Hub).
        repository = repr("{}/{}".format("index.docker.io" if ref.registry == "registry-1.docker.io" else ref.registry, ref.repository)),
    ))
    rctx.file("digest.txt", digest)

_TAG_DOC = """The tag `digest` was taken from (e.g. `3.20`), for readers and for Renovate, which updates `tag` and `digest` together. The digest stays what is pulled. At fetch time the tag's manifest is read once more and a warning is printed when the tag names another digest now (the tag was moved) or cannot be read. A tag without a digest is refused: get the digest with `crane digest IMAGE:TAG`. A tag in `image` (`NAME:TAG@sha256:...`) counts as this attribute."""

_COMMON_ATTRS = {
    "image": attr.string(
        doc = "`REGISTRY/REPOSITORY`, optionally with `@sha256:...` (then `digest` may be left out) and an `http://` prefix for a plain-http registry (`localhost`, `127.0.0.1` and `[::1]` are plain http by default). `docker.io/NAME` means Docker Hub (`library/NAME` for one-part names). A tag without a digest is refused (pull by digest); `NAME:TAG@sha256:...` is `tag` and `digest` in one.",
        mandatory = True,
    ),
    "digest": attr.string(doc = "`sha256:...` of the image manifest or of the index (then `platforms` picks from it)."),
    "tag": attr.string(doc = _TAG_DOC),
    "token_realm": attr.string(doc = "Bearer token endpoint (the `realm` of the registry's `WWW-Authenticate: Bearer` challenge), for registries not in the built-in list (Docker Hub, ghcr.io, quay.io, public.ecr.aws, cgr.dev, gcr.io). The token is asked for anonymously or with the basic credentials of the docker config."),
    "token_service": attr.string(doc = "The `service` of that challenge."),
}

oci_pull_image = repository_rule(
    implementation = _oci_pull_image_impl,
    doc = """Pulls one image by digest into a repository whose target `target_name` is its OCI
layout (usable as an `oci_image` `base`). Every blob (manifest, config, layers) is
downloaded by digest with its sha256, so Bazel's repository cache serves repeats and no
content that does not match is used. Usually made by the `oci.pull` module extension or the
`oci_pull` macro rather than directly.""",
    attrs = _COMMON_ATTRS | {
        "platform": attr.string(doc = "`os/arch[/variant]` to pick when `digest` is an index; when it is an image, the image's platform must match."),
        "target_name": attr.string(doc = "Name of the layout target (and of the repository in errors).", mandatory = True),
    },
    environ = ["DOCKER_CONFIG", "HOME"],
)

def _oci_pull_hub_impl(rctx):
    who = "oci_pull " + rctx.attr.target_name
    if not rctx.attr.platforms:
        fail("{}: no platforms".format(who))
    if rctx.attr.digest or rctx.attr.tag:
        ref = parse_image(rctx.attr.image, rctx.attr.digest, who, rctx.attr.tag)
        if ref.tag:
            check_tag(rctx, ref, authorization(rctx, ref, who), who)
    settings = []
    actual = {}
    for p in rctx.attr.platforms:
        pl = parse_platform(p, who)
        settings.append("""config_setting(
    name = {name},
    constraint_values = {cv},
)
""".format(name = repr(pl.key), cv = repr(pl.constraints)))
        actual[":" + pl.key] = "@{}_{}//:{}_{}".format(rctx.attr.target_name, pl.key, rctx.attr.target_name, pl.key)
    rctx.file("BUILD.bazel", """\
# {image}: one repository per platform, picked by the target platform. Generated by oci_pull.

{settings}
alias(
    name = {name},
    actual = select(
        {actual},
        no_match_error = {err},
    ),
    visibility = ["//visibility:public"],
)
""".format(
        image = rctx.attr.image,
        settings = "\n".join(settings),
        name = repr(rctx.attr.target_name),
        actual = repr(actual).replace(", ", ",\n         "),
        err = repr("{} was pulled for {} only; the target platform is none of them".format(rctx.attr.image, ", ".join(rctx.attr.platforms))),
    ))

oci_pull_hub = repository_rule(
    implementation = _oci_pull_hub_impl,
    doc = "The `@name` repository of a multi-platform `oci_pull`: an alias selecting the per-platform repository `@name_<os>_<arch>[_<variant>]` by the target platform. Downloads nothing but, with a tag, the tag's manifest to check it still names the digest.",
    attrs = {
        "digest": attr.string(doc = "The index's digest, which the tag is checked against."),
        "image": attr.string(doc = "The image, for messages and the tag check."),
        "tag": attr.string(doc = "The tag to check, see oci_pull_image."),
        "token_realm": attr.string(doc = "See oci_pull_image."),
        "token_service": attr.string(doc = "See oci_pull_image."),
        "platforms": attr.string_list(doc = "`os/arch[/variant]` of each per-platform repository."),
        "target_name": attr.string(doc = "Name of the alias; per-platform repositories are `<target_name>_<os>_<arch>[_<variant>]`.", mandatory = True),
    },
    environ = ["DOCKER_CONFIG", "HOME"],
)

def oci_pull(name, image, digest = "", platforms = [], token_realm = "", token_service = "", tag = ""):
    """Pulls an image by digest (WORKSPACE; with bzlmod use the `oci` module extension).

    `@name//:name` (or just `@name`) is the image's OCI layout, for `oci_image(base = ...)`.
    With `platforms`, `digest` is an index: each platform is its own repository
    `@name_<os>_<arch>[_<variant>]`, and `@name` selects among them by the target platform,
    so it works under `oci_image_index`'s platform transition.

    Args:
      name: repository (and target) name.
      image: `REGISTRY/REPOSITORY`, see oci_pull_image.
      digest: `sha256:...` of the manifest, or of the index when `platforms` is given.
      platforms: `os/arch[/variant]` list to pull from an index.
      token_realm: bearer token endpoint, see oci_pull_image.
      token_service: bearer token service, see oci_pull_image.
      tag: the tag the digest was taken from; checked at fetch time, see oci_pull_image.
    """
    common = dict(image = image, digest = digest, token_realm = token_realm, token_service = token_service, tag = tag)
    if not platforms:
        oci_pull_image(name = name, target_name = name, **common)
        return
    for p in platforms:
        key = parse_platform(p, "oci_pull " + name).key
        oci_pull_image(name = name + "_" + key, target_name = name + "_" + key, platform = p, **common)
    oci_pull_hub(name = name, platforms = platforms, target_name = name, **common)
