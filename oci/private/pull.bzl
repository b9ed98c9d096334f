"""oci_pull: an image from a registry, pulled by digest in the repository phase.

Credentials and tokens are pull_auth.bzl's business; this file fetches and lays out.
"""

load("//platforms:platforms.bzl", "PLATFORMS_BY_OCI_ARCH", "oci_platform_key")
load(":cosign.bzl", "load_keys", "verify_image")
load(":pull_auth.bzl", "authorization", "docker_config_problem")

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

def _is_sha256(digest):
    algo, _, hex = digest.partition(":")
    return algo == "sha256" and len(hex) == 64 and all([c in "0123456789abcdef" for c in hex.elems()])

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
    if not _is_sha256(digest):
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
    # Every digest was checked by parse_image or where it was read (decode_manifest).
    return "layout/blobs/sha256/" + digest.partition(":")[2]

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

def download_error(rctx, who, ref, what, url):
    """The message of a failed download of a manifest or blob.

    Args:
      rctx: the repository context (to say why the Docker config gave no credentials).
      who: what to name in messages.
      ref: parse_image's result.
      what: the blob (`the manifest`, `config sha256:...`, `layer sha256:...`).
      url: its URL.

    Returns:
      The message.
    """
    return ("{who}: could not fetch {what} of {image} from {url}: the registry has no such digest " +
            "(check digest; oci_pull needs the digest of the manifest or index), wants credentials " +
            "(~/.docker/config.json or $DOCKER_CONFIG, a bearer token realm: token_realm){problem}, or is unreachable; " +
            "a download whose content does not match the digest fails the same way").format(who = who, what = what, image = ref.name, url = url, problem = docker_config_problem(rctx))

_JSON_KINDS = {"dict": "an object", "list": "a list", "string": "a string", "int": "a number", "float": "a number", "bool": "a boolean", "NoneType": "null"}

# json.decode's answer to text that is not JSON (no JSON value is a struct).
_NOT_JSON = struct()

def _json_kind(v):
    return _JSON_KINDS.get(type(v), type(v))

def _field(d, key, want, where, required = False):
    """Returns (d[key], error): an absent (or null) field is want's zero value unless required."""
    v = d.get(key)
    if v == None:
        if required:
            return None, "{} has no {}".format(where, repr(key))
        return {"dict": {}, "list": [], "string": ""}[want], None
    if type(v) != want:
        return None, "{}: {} must be {}, got {}".format(where, repr(key), _JSON_KINDS[want], _json_kind(v))
    return v, None

def _decode_object(text, what):
    doc = json.decode(text, default = _NOT_JSON)
    if doc == _NOT_JSON:
        return None, "{}: not valid JSON".format(what)
    if type(doc) != "dict":
        return None, "{}: must be a JSON object, got {}".format(what, _json_kind(doc))
    return doc, None

def _descriptor(d, where, platform = False):
    """Checks a descriptor (an index entry, a manifest's config or layer) as read here."""
    if type(d) != "dict":
        return "{} must be an object, got {}".format(where, _json_kind(d))
    digest, err = _field(d, "digest", "string", where, required = True)
    if err:
        return err
    if not _is_sha256(digest):
        return "{}: digest {} is not sha256:<64 lowercase hex digits>".format(where, repr(digest))
    _, err = _field(d, "urls", "list", where)
    if err or not platform:
        return err
    p, err = _field(d, "platform", "dict", where)
    return err or _platform_error(p, where + " platform")

def _platform_error(p, where):
    for key in ["os", "architecture", "variant"]:
        _, err = _field(p, key, "string", where)
        if err:
            return err
    return None

def _descriptors(doc, key, where, required):
    """Checks the list doc[key] of descriptors (an index's have platforms); the first error."""
    items, err = _field(doc, key, "list", where, required = required)
    if err:
        return err
    for i, d in enumerate(items):
        err = _descriptor(d, "{}: {}[{}]".format(where, key, i), platform = key == "manifests")
        if err:
            return err
    return None

def image_named(who, ref):
    """How messages name an image: `oci_pull NAME: image REGISTRY/REPOSITORY@DIGEST`.

    Args:
      who: the repository rule's name for itself.
      ref: parse_image's result.

    Returns:
      The prefix of messages about ref.
    """
    return "{}: image {}".format(who, ref.name)

def decode_manifest(text, digest, image):
    """Parses and checks a manifest or index as oci_pull reads it.

    Args:
      text: the blob's content.
      digest: its digest, for messages.
      image: image_named's result.

    Returns:
      (doc, media type, error): error is None or the message, naming the image, the blob
      (`index sha256:...` or `manifest sha256:...`) and the field.
    """
    doc, mt, err = _decode_manifest(text, digest)
    if err:
        return None, None, "{}: {}".format(image, err)
    return doc, mt, None

def _decode_manifest(text, digest):
    doc, err = _decode_object(text, "manifest or index " + digest)
    if err:
        return None, None, err
    mt, err = _field(doc, "mediaType", "string", "manifest or index " + digest)
    if err:
        return None, None, err
    if not mt:
        mt = _INDEX_TYPES[0] if "manifests" in doc else _MANIFEST_TYPES[0]
    where = "{} {}".format("index" if mt in _INDEX_TYPES else "manifest", digest)
    if doc.get("schemaVersion") != 2:
        return None, None, "{}: schemaVersion is {}, want 2".format(where, json.encode(doc.get("schemaVersion")))
    if mt in _INDEX_TYPES:
        err = _descriptors(doc, "manifests", where, True)
    elif mt in _MANIFEST_TYPES:
        _, err = _field(doc, "config", "dict", where, required = True)
        err = err or _descriptor(doc["config"], where + ": config") or _descriptors(doc, "layers", where, False)
    else:
        err = "{}: media type {} is neither an image manifest nor an index".format(where, mt)
    if err:
        return None, None, err
    return doc, mt, None

def decode_config(text, digest, image):
    """Parses an image config as far as oci_pull reads it.

    Args:
      text: the blob's content.
      digest: its digest, for messages.
      image: image_named's result.

    Returns:
      (platform, error): platform is {"os", "architecture"[, "variant"]}; error is None or
      the message, naming the image, the blob (`config sha256:...`) and the field.
    """
    where = "config " + digest
    config, err = _decode_object(text, where)
    err = err or _platform_error(config, where)
    if err:
        return None, "{}: {}".format(image, err)
    platform = {"os": config.get("os") or "", "architecture": config.get("architecture") or ""}
    if config.get("variant"):
        platform["variant"] = config["variant"]
    return platform, None

def _fetch_json(rctx, ref, auth, digest, who, what):
    url, r = _download(rctx, ref, auth, "manifests", digest)
    if not r.success:
        fail(download_error(rctx, who, ref, what, url))
    text = rctx.read(_blob_path(digest))
    doc, mt, err = decode_manifest(text, digest, image_named(who, ref))
    if err:
        fail(err)
    return doc, mt, len(text)

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
    return "/".join([p.get("os") or "?", p.get("architecture") or "?"] + ([p["variant"]] if p.get("variant") else []))

# How many of an index's platforms a message lists (an index may have thousands of entries).
_PLATFORMS_SHOWN = 8

def summarize_platforms(manifests):
    """Says what platforms an index's entries are for, in a line of bounded length.

    Args:
      manifests: the index's (checked) entries.

    Returns:
      e.g. `3 entries for 2 platforms: linux/amd64, linux/arm64/v8`, the first few distinct
      platforms sorted, then `... and N more`.
    """
    names = sorted({_platform_string(m["platform"]): None for m in manifests if m.get("platform")}.keys())
    entries = "{} entr{}".format(len(manifests), "y" if len(manifests) == 1 else "ies")
    if not names:
        return entries + ", none with a platform"
    s = "{} for {} platform{}: {}".format(entries, len(names), "" if len(names) == 1 else "s", ", ".join(names[:_PLATFORMS_SHOWN]))
    if len(names) > _PLATFORMS_SHOWN:
        s += ", ... and {} more".format(len(names) - _PLATFORMS_SHOWN)
    return s

def pick_platform(index, digest, want, platform, image):
    """Picks the entry of a (checked) index for a platform.

    Args:
      index: the index, as decode_manifest returns it.
      digest: the index's digest, for messages.
      want: parse_platform's result, or None.
      platform: the platform as given, for messages.
      image: image_named's result.

    Returns:
      (the entry's digest, error): error is None or the message, naming the image and the
      index and summarizing its platforms.
    """
    where = "{}: index {}".format(image, digest)
    if not want:
        return None, "{} ({}): give platforms (oci.pull) or platform (oci_pull_image) to pick".format(where, summarize_platforms(index["manifests"]))
    picked = []
    for m in index["manifests"]:
        p = m.get("platform") or {}
        variant = p.get("variant")
        if p.get("os") == want.os and p.get("architecture") == want.arch and (not want.variant or not variant or variant == want.variant):
            picked.append(m)
    if not picked:
        return None, "{} has no image for {}; it has {}".format(where, platform, summarize_platforms(index["manifests"]))
    if len(picked) > 1:
        return None, "{} has {} images for {}".format(where, len(picked), platform)
    return picked[0]["digest"], None

def _fetch_config(rctx, ref, auth, who, digest):
    url, r = _download(rctx, ref, auth, "blobs", digest)
    if not r.success:
        fail(download_error(rctx, who, ref, "config " + digest, url))
    platform, err = decode_config(rctx.read(_blob_path(digest)), digest, image_named(who, ref))
    if err:
        fail(err)
    return platform

def _layer_digests(ref, who, layers):
    """The layers' digests, each once; a foreign layer (which no registry serves) fails."""
    digests = {}
    for layer in layers:
        if layer.get("urls"):
            fail("{}: {}: layer {} is a foreign (non-distributable) layer, which oci_pull does not fetch".format(who, ref.name, layer["digest"]))
        digests[layer["digest"]] = None
    return digests.keys()

def _fetch_layers(rctx, ref, auth, who, layers):
    pending = {}
    for d in _layer_digests(ref, who, layers):
        pending[d] = _download(rctx, ref, auth, "blobs", d, block = False)
    for d, (url, r) in pending.items():
        if hasattr(r, "wait"):
            r = r.wait()
        if not r.success:
            fail(download_error(rctx, who, ref, "layer " + d, url))

def oci_pull_image_impl(rctx):
    """oci_pull_image's implementation (public for tests with a fake repository context).

    Args:
      rctx: the repository context.
    """
    who = "oci_pull " + rctx.attr.target_name
    ref = parse_image(rctx.attr.image, rctx.attr.digest, who, rctx.attr.tag)
    want = parse_platform(rctx.attr.platform, who) if rctx.attr.platform else None
    auth = authorization(rctx, ref, who)
    if not rctx.attr.platform:
        # With platforms, the hub checks the tag once for all of them.
        check_tag(rctx, ref, auth, who)
    verified_by, err = verify_signature(rctx, ref, auth, who) if rctx.attr.verify else ("", None)
    if err:
        fail(err)

    doc, mt, size, digest = _platform_manifest(rctx, ref, auth, who, want)
    platform = _fetch_config(rctx, ref, auth, who, doc["config"]["digest"])
    if want and (platform["os"] != want.os or platform["architecture"] != want.arch):
        fail("{}: {} ({}) is an image for {}, not {}".format(who, ref.name, digest, _platform_string(platform), rctx.attr.platform))
    layers_repository = rctx.attr.layers_repository
    if layers_repository:
        # Shallow: the layer blobs are the layers repository's, fetched only when a build
        # asks for their bytes.
        _layer_digests(ref, who, doc.get("layers") or [])
    else:
        _fetch_layers(rctx, ref, auth, who, doc.get("layers") or [])

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
    verified_by = {verified_by},{layers}
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
        repository = repr(_client_repository(ref)),
        verified_by = repr(verified_by),
        layers = _layers_attrs(layers_repository),
    ))
    rctx.file("digest.txt", digest)

def _layers_attrs(layers_repository):
    # The pulled layout's layers: none unless the build asks (a select), so a build that
    # does not ask never loads the layers repository, and Bazel does not fetch it.
    if not layers_repository:
        return ""
    return """
    shallow = True,
    layers = select({{
        {on}: ["@{repo}//:blobs"],
        "//conditions:default": [],
    }}),""".format(on = repr(str(Label("//oci/settings:fetch_base_layers_on"))), repo = layers_repository)

def _platform_manifest(rctx, ref, auth, who, want):
    """Fetches ref's manifest, through its index when it is one (picking want's entry).

    Returns:
      (manifest, media type, size, digest).
    """
    doc, mt, size = _fetch_json(rctx, ref, auth, ref.digest, who, "the manifest")
    if mt not in _INDEX_TYPES:
        return doc, mt, size, ref.digest
    digest, err = pick_platform(doc, ref.digest, want, rctx.attr.platform, image_named(who, ref))
    if err:
        fail(err)
    doc, mt, size = _fetch_json(rctx, ref, auth, digest, who, "the {} manifest".format(rctx.attr.platform))
    if mt not in _MANIFEST_TYPES:
        fail("{}: the {} entry of index {}, {}, is not an image manifest ({})".format(image_named(who, ref), rctx.attr.platform, ref.digest, digest, mt))
    return doc, mt, size, digest

def oci_pull_layers_impl(rctx):
    """oci_pull_layers' implementation (public for tests with a fake repository context).

    Args:
      rctx: the repository context.
    """
    who = "oci_pull {} (its layers, {})".format(rctx.attr.target_name, rctx.attr.name)
    ref = parse_image(rctx.attr.image, rctx.attr.digest, who)
    want = parse_platform(rctx.attr.platform, who) if rctx.attr.platform else None
    auth = authorization(rctx, ref, who)

    # The manifests again (from the repository cache: the image's repository fetched them
    # by digest), for the layers' digests.
    doc, _, _, digest = _platform_manifest(rctx, ref, auth, who, want)
    for d in [ref.digest] if digest == ref.digest else [ref.digest, digest]:
        rctx.delete(_blob_path(d))
    layers = _layer_digests(ref, who, doc.get("layers") or [])
    _fetch_layers(rctx, ref, auth, who, doc.get("layers") or [])
    rctx.file("BUILD.bazel", """\
# The layer blobs of {image}, for builds that need their bytes
# (--@rules_wharf//oci/settings:fetch_base_layers). Generated by oci_pull.

filegroup(
    name = "blobs",
    srcs = {srcs},
    visibility = ["//visibility:public"],
)
""".format(image = ref.name, srcs = repr([_blob_path(d) for d in layers])))

def _client_repository(ref):
    # As registries name themselves to clients (go-containerregistry's name for Docker Hub).
    return "{}/{}".format("index.docker.io" if ref.registry == "registry-1.docker.io" else ref.registry, ref.repository)

def verify_signature(rctx, ref, auth, who):
    """Checks ref's cosign signature against the verify keys.

    Args:
      rctx: the repository context (attr.verify: the keys or policy files).
      ref: parse_image's result.
      auth: authorization's result.
      who: what to name in messages.

    Returns:
      (the name of the key that verified it, for the pulled layout's OciLayoutOriginInfo;
      error): error is None or the message naming the image and the reason.
    """
    image = image_named(who, ref)
    if ref.scheme != "https":
        return None, "{}: verify needs the registry over https: Bazel downloads plain http only with a known checksum, and a signature's digest is not known before it is fetched".format(image)
    keys, err = load_keys(rctx, rctx.attr.verify, who, _client_repository(ref))
    if err:
        return None, err

    def get(kind, name, digest, accept):
        url = _url(ref, kind, name)
        out = "signatures/" + (digest.partition(":")[2] if digest else "unpinned")
        kwargs = dict(url = url, output = out, auth = {url: auth} if auth else {}, allow_fail = True)
        if digest:
            kwargs["sha256"] = digest.partition(":")[2]
        if accept:
            kwargs["headers"] = {"Accept": accept, "Docker-Distribution-API-Version": "registry/2.0"}
        ok = rctx.download(**kwargs).success
        text = rctx.read(out) if ok else ""
        if rctx.path(out).exists:
            rctx.delete(out)
        return ok, text

    return verify_image(get, keys, ref.digest, _client_repository(ref), image)

_VERIFY_DOC = """Public keys that must verify the image's cosign signature, checked at fetch time: PEM files of ECDSA P-256 keys (`cosign.pub` from `cosign generate-key-pair`; a file may hold several; any one key verifying is enough), or JSON policy files (`{"images": [{"prefix": "ghcr.io/org/", "keys": ["org.pub"]}]}`: the longest prefix of `REGISTRY/REPOSITORY` picks the keys, paths relative to the policy). The signature of `digest` (the index's, for an index) is looked for as an OCI 1.1 referrer and under cosign's tag `sha256-<hex>.sig`; its simple-signing payload must name `digest` and this repository. The fetch fails, naming the image and the reason, when there is no signature, no key verifies it, the payload names another digest or repository, or the signature is malformed. Needs the registry over https. See docs/signing.md#verified-bases."""

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
    "verify": attr.label_list(doc = _VERIFY_DOC, allow_files = True),
}

_PULL_IMAGE_DOC = """Pulls one image by digest into a repository whose target `target_name` is its OCI
layout (usable as an `oci_image` `base`). Every blob (manifest, config, layers) is
downloaded by digest with its sha256, so Bazel's repository cache serves repeats and no
content that does not match is used. Usually made by the `oci.pull` module extension or the
`oci_pull` macro rather than directly.

```starlark
# WORKSPACE: what oci_pull(name = "alpine", platforms = ["linux/amd64"], ...) declares
load("@rules_wharf//oci:pull.bzl", "oci_pull_image")

oci_pull_image(
    name = "alpine_linux_amd64",
    target_name = "alpine_linux_amd64",  # @alpine_linux_amd64, for oci_image(base = ...)
    image = "index.docker.io/library/alpine",
    digest = "sha256:...",  # the index's: `crane digest index.docker.io/library/alpine:3.20`
    platform = "linux/amd64",
)
```
"""

oci_pull_image = repository_rule(
    implementation = oci_pull_image_impl,
    doc = _PULL_IMAGE_DOC,
    attrs = _COMMON_ATTRS | {
        "platform": attr.string(doc = "`os/arch[/variant]` to pick when `digest` is an index; when it is an image, the image's platform must match."),
        "target_name": attr.string(doc = "Name of the layout target (and of the repository in errors).", mandatory = True),
        "layers_repository": attr.string(doc = "The `oci_pull_layers` repository holding the layer blobs (its name as this repository sees it). Set: this repository holds the index, manifest and config only, and the layout gets the layers only under `--@rules_wharf//oci/settings:fetch_base_layers` (what `oci.pull` and `oci_pull` do). Empty: the layers are fetched here with the rest."),
    },
    environ = ["DOCKER_CONFIG", "HOME"],
)

_PULL_LAYERS_DOC = """The layer blobs of one pulled image, for builds that ask for their bytes (a docker
tarball, `oci_load` or `oci_structure_test` with `fetch_base_layers = True`, the `layout`
output group under the flag): the `@name` repository of
an `oci_pull_image` with `layers_repository` selects `@name_layers//:blobs` only under
`--@rules_wharf//oci/settings:fetch_base_layers`, so Bazel fetches this repository only then.
Building an image on the base, or pushing it, never does. Made by `oci.pull` and `oci_pull`.

```starlark
# WORKSPACE: what oci_pull(name = "alpine", platforms = ["linux/amd64"], ...) declares
load("@rules_wharf//oci:pull.bzl", "oci_pull_image", "oci_pull_layers")

oci_pull_image(
    name = "alpine_linux_amd64",
    target_name = "alpine_linux_amd64",
    image = "index.docker.io/library/alpine",
    digest = "sha256:...",  # the index's
    platform = "linux/amd64",
    layers_repository = "alpine_linux_amd64_layers",
)

oci_pull_layers(
    name = "alpine_linux_amd64_layers",
    target_name = "alpine_linux_amd64",
    image = "index.docker.io/library/alpine",
    digest = "sha256:...",  # the same
    platform = "linux/amd64",
)
```
"""

oci_pull_layers = repository_rule(
    implementation = oci_pull_layers_impl,
    doc = _PULL_LAYERS_DOC,
    attrs = {
        "image": attr.string(doc = "As the image's `oci_pull_image`.", mandatory = True),
        "digest": attr.string(doc = "As the image's `oci_pull_image`."),
        "platform": attr.string(doc = "As the image's `oci_pull_image`."),
        "token_realm": attr.string(doc = "See oci_pull_image."),
        "token_service": attr.string(doc = "See oci_pull_image."),
        "target_name": attr.string(doc = "The image's repository, for messages.", mandatory = True),
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

_PULL_HUB_DOC = """The `@name` repository of a multi-platform `oci_pull`: an alias selecting the per-platform repository `@name_<os>_<arch>[_<variant>]` by the target platform. Downloads nothing but, with a tag, the tag's manifest to check it still names the digest.

```starlark
# WORKSPACE: what oci_pull(name = "alpine", platforms = [...], ...) declares beside an
# oci_pull_image per platform (@alpine_linux_amd64, @alpine_linux_arm64_v8)
load("@rules_wharf//oci:pull.bzl", "oci_pull_hub")

oci_pull_hub(
    name = "alpine",
    target_name = "alpine",
    image = "index.docker.io/library/alpine",
    digest = "sha256:...",  # the index's
    platforms = [
        "linux/amd64",
        "linux/arm64/v8",
    ],
)
```
"""

oci_pull_hub = repository_rule(
    implementation = _oci_pull_hub_impl,
    doc = _PULL_HUB_DOC,
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

def oci_pull(name, image, digest = "", platforms = [], token_realm = "", token_service = "", tag = "", verify = []):
    """Pulls an image by digest (WORKSPACE; with bzlmod use the `oci` module extension).

    `@name//:name` (or just `@name`) is the image's OCI layout, for `oci_image(base = ...)`.
    With `platforms`, `digest` is an index: each platform is its own repository
    `@name_<os>_<arch>[_<variant>]`, and `@name` selects among them by the target platform,
    so it works under `oci_image_index`'s platform transition. Each image's repository holds
    its index, manifest and config; its layer blobs are the repository `<its name>_layers`,
    which Bazel fetches only for builds that ask for their bytes (`oci_load` or
    `oci_structure_test` with `fetch_base_layers = True`, or
    `--@rules_wharf//oci/settings:fetch_base_layers`): building on the image or pushing it
    never does (docs/pull.md#shallow-bases-layers-only-when-needed).

    ```starlark
    # WORKSPACE
    load("@rules_wharf//oci:pull.bzl", "oci_pull")

    oci_pull(
        name = "distroless",
        image = "gcr.io/distroless/static",
        digest = "sha256:...",  # the index's: `crane digest gcr.io/distroless/static:latest`
        platforms = [
            "linux/amd64",
            "linux/arm64/v8",
        ],
    )
    ```

    Then `oci_image(base = "@distroless", ...)`, as with the `oci` module extension.

    Args:
      name: repository (and target) name.
      image: `REGISTRY/REPOSITORY`, see oci_pull_image.
      digest: `sha256:...` of the manifest, or of the index when `platforms` is given.
      platforms: `os/arch[/variant]` list to pull from an index.
      token_realm: bearer token endpoint, see oci_pull_image.
      token_service: bearer token service, see oci_pull_image.
      tag: the tag the digest was taken from; checked at fetch time, see oci_pull_image.
      verify: public key (or policy) files the image's cosign signature must verify with, see
        oci_pull_image; each platform's repository checks the signature of `digest`.
    """
    common = dict(image = image, digest = digest, token_realm = token_realm, token_service = token_service)
    if not platforms:
        _pull_shallow(name, "", verify, tag, common)
        return
    for p in platforms:
        key = parse_platform(p, "oci_pull " + name).key
        _pull_shallow(name + "_" + key, p, verify, tag, common)
    oci_pull_hub(name = name, platforms = platforms, target_name = name, tag = tag, **common)

def _pull_shallow(name, platform, verify, tag, common):
    """@name: the image's index, manifest and config; @name_layers: its layer blobs."""
    oci_pull_image(name = name, target_name = name, platform = platform, verify = verify, tag = tag, layers_repository = name + "_layers", **common)
    oci_pull_layers(name = name + "_layers", target_name = name, platform = platform, **common)
