"""oci.pull(verify = ...): a pulled image's cosign signature, checked at fetch time.

Cosign signs the simple-signing payload (the image's digest and repository) with ECDSA over
its SHA-256, and stores the signature as a layer of a manifest: found as an OCI 1.1 referrer
of the image, or under the tag sha256-<hex>.sig. The payload is downloaded by its layer
digest, so Bazel has checked its sha256, which is the hash the signature is over.
"""

load(":base64.bzl", "b64decode_bytes")
load(":ecdsa.bzl", "p256_verify", "parse_pem_keys", "parse_signature")

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"

# The artifactType cosign gives a signature manifest stored as a referrer.
SIGNATURE_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"

_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_MANIFEST_ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"

# Not JSON (json.decode's default; no JSON value is a struct).
_NOT_JSON = struct()

def signature_tag(digest):
    """Cosign's tag for the signatures of digest: `sha256-<hex>.sig`.

    Args:
      digest: `sha256:<hex>`.

    Returns:
      The tag.
    """
    return digest.replace(":", "-") + ".sig"

def _decode(text):
    doc = json.decode(text, default = _NOT_JSON)
    return doc if type(doc) == "dict" else None

def signature_layers(text, where):
    """The signatures a cosign signature manifest holds.

    Args:
      text: the manifest.
      where: how messages name it (e.g. `tag sha256-....sig`).

    Returns:
      (list of struct(where, payload, signature), error): payload is the layer's digest,
      signature its annotation (base64 DER); layers of other media types are skipped.
    """
    doc = _decode(text)
    if doc == None or type(doc.get("layers")) != "list":
        return None, "{}: not an image manifest with layers".format(where)
    out = []
    for i, layer in enumerate(doc["layers"]):
        if type(layer) != "dict" or layer.get("mediaType") != SIMPLE_SIGNING:
            continue
        annotations = layer.get("annotations")
        sig = annotations.get(SIGNATURE_ANNOTATION) if type(annotations) == "dict" else None
        digest = layer.get("digest")
        if type(sig) != "string" or type(digest) != "string" or not _is_sha256(digest):
            return None, "{} layer {}: no {} annotation or no sha256 digest".format(where, i, SIGNATURE_ANNOTATION)
        out.append(struct(where = "{} layer {}".format(where, i), payload = digest, signature = sig))
    return out, None

def _is_sha256(d):
    algo, _, hex = d.partition(":")
    return algo == "sha256" and len(hex) == 64 and all([c in "0123456789abcdef" for c in hex.elems()])

def referrer_signatures(text):
    """The digests of the cosign signature manifests a referrers answer lists.

    Args:
      text: the answer of GET /v2/<repository>/referrers/<digest>, an OCI index.

    Returns:
      The digests (sha256 only), or None when the answer is no index.
    """
    doc = _decode(text)
    if doc == None or type(doc.get("manifests")) != "list":
        return None
    return [
        m["digest"]
        for m in doc["manifests"]
        if type(m) == "dict" and m.get("artifactType") == SIGNATURE_ARTIFACT_TYPE and type(m.get("digest")) == "string" and _is_sha256(m["digest"])
    ]

def _normalize_repository(r):
    # Docker Hub has three names; registries name it index.docker.io to clients.
    host, _, path = r.partition("/")
    if host in ["docker.io", "registry-1.docker.io", "index.docker.io"]:
        host = "index.docker.io"
        if "/" not in path:
            path = "library/" + path
    return host + "/" + path

def check_payload(text, digest, repository):
    """Checks a simple-signing payload names the pulled digest and repository.

    Args:
      text: the payload.
      digest: the pulled digest.
      repository: the pulled `registry/repository`.

    Returns:
      None, or why the payload does not vouch for this image.
    """
    doc = _decode(text)
    critical = doc.get("critical") if doc else None
    if type(critical) != "dict" or type(critical.get("image")) != "dict" or type(critical.get("identity")) != "dict":
        return "the payload is not a cosign simple-signing payload (no critical.image and critical.identity)"
    named = critical["image"].get("docker-manifest-digest")
    if named != digest:
        return "the payload names digest {}, not {}".format(named, digest)
    ref = critical["identity"].get("docker-reference")
    if type(ref) != "string" or _normalize_repository(ref) != _normalize_repository(repository):
        return "the payload names repository {}, not {}".format(ref, repository)
    return None

def load_keys(rctx, files, who, repository):
    """Reads the public keys of oci.pull's verify: PEM files, or policy files naming them.

    A policy is a JSON file, `{"images": [{"prefix": "ghcr.io/org/", "keys": ["org.pub"]}]}`:
    the entry with the longest prefix of the pulled `registry/repository` gives its keys,
    paths relative to the policy file.

    Args:
      rctx: the repository context.
      files: the verify attribute's labels.
      who: what to name in messages.
      repository: the pulled `registry/repository`, to pick a policy's entry.

    Returns:
      (list of struct(name, point), error): name is the key's label or path; error is None
      or the message naming the file and what is wrong with it.
    """
    keys = []
    for f in files:
        if not f.name.endswith(".json"):
            more, err = _pem_keys(rctx.read(f), str(f), who)
            if err:
                return None, err
            keys += more
            continue
        names, err = policy_keys(rctx.read(f), str(f), _normalize_repository(repository), who)
        if err:
            return None, err
        for name in names:
            path = rctx.path(f).dirname.get_child(name)
            if hasattr(rctx, "watch"):
                rctx.watch(path)
            if not path.exists:
                return None, "{}: verify policy {} names key {}, which does not exist beside it".format(who, f, name)
            more, err = _pem_keys(rctx.read(path), "{} ({})".format(name, f), who)
            if err:
                return None, err
            keys += more
    return keys, None

def _pem_keys(text, name, who):
    points, err = parse_pem_keys(text, "{}: verify key {}".format(who, name))
    if err:
        return None, err
    return [
        struct(name = name + ("" if len(points) == 1 else " (key {})".format(i + 1)), point = p)
        for i, p in enumerate(points)
    ], None

def policy_keys(text, name, repository, who):
    """The key files a verify policy names for a repository.

    Args:
      text: the policy's JSON.
      name: the policy file, for messages.
      repository: the normalized `registry/repository`.
      who: what to name in messages.

    Returns:
      (the key paths of the entry with the longest matching prefix, error).
    """
    doc = _decode(text)
    entries = doc.get("images") if doc else None
    if type(entries) != "list":
        return None, "{}: verify policy {}: want a JSON object with \"images\": [{{\"prefix\": ..., \"keys\": [...]}}]".format(who, name)
    best = None
    for i, e in enumerate(entries):
        ok = type(e) == "dict" and type(e.get("prefix")) == "string" and type(e.get("keys")) == "list" and e["keys"]
        if not ok or not all([type(k) == "string" for k in e["keys"]]):
            return None, "{}: verify policy {}: images[{}] needs \"prefix\" (a string) and \"keys\" (a non-empty list of key file paths)".format(who, name, i)
        if repository.startswith(_normalize_repository(e["prefix"]) if "/" in e["prefix"] else e["prefix"]) and (best == None or len(e["prefix"]) > len(best["prefix"])):
            best = e
    if best == None:
        return None, "{}: verify policy {} has no entry whose prefix matches {}".format(who, name, repository)
    return best["keys"], None

def verify_one(keys, payload_digest, signature):
    """Which key verifies a signature over a payload.

    Args:
      keys: load_keys's result.
      payload_digest: the payload's `sha256:<hex>`.
      signature: the base64 DER signature.

    Returns:
      (the key's name, error): error is None, or why no key verifies it.
    """
    der, err = b64decode_bytes(signature, "the signature annotation")
    if err:
        return None, "malformed signature: " + err
    r, s, err = parse_signature(der)
    if err:
        return None, "malformed signature: " + err
    h = int(payload_digest.partition(":")[2], 16)
    why = []
    for k in keys:
        err = p256_verify(k.point, h, r, s)
        if not err:
            return k.name, None
        why.append(err)
    if all([w.startswith("the signature does not match") for w in why]):
        return None, "signed by another key (none of {} verifies it)".format(", ".join([k.name for k in keys]))
    return None, "malformed signature: " + why[0]

def _candidates(get, digest):
    """Every cosign signature of digest, from referrers and from the tag: (list, where looked, error)."""
    found = []
    looked = []
    ok, text = get("referrers", digest, "", _OCI_INDEX)
    refs = referrer_signatures(text) if ok else None
    looked.append("referrers of artifactType {}: {}".format(SIGNATURE_ARTIFACT_TYPE, "{} found".format(len(refs)) if refs != None else "no referrers API or none"))
    for d in refs or []:
        ok, text = get("manifests", d, d, _MANIFEST_ACCEPT)
        sigs, err = signature_layers(text, "referrer " + d) if ok else ([], None)
        if err:
            return None, None, err
        found += sigs
    tag = signature_tag(digest)
    ok, text = get("manifests", tag, "", _MANIFEST_ACCEPT)
    looked.append("tag {}: {}".format(tag, "found" if ok else "none"))
    if ok:
        sigs, err = signature_layers(text, "tag " + tag)
        if err:
            return None, None, err
        found += sigs
    return found, "; ".join(looked), None

def verify_image(get, keys, digest, repository, image):
    """Fails unless a cosign signature of digest verifies with one of keys.

    Args:
      get: function(kind, name, expected digest or "", Accept) -> (success, text): GET
        /v2/<repository>/<kind>/<name>; an expected digest is the download's sha256.
      keys: load_keys's result.
      digest: the pulled digest (the index's for an index: cosign signs what it is given).
      repository: the pulled `registry/repository`, which the payload must name.
      image: how messages name the image (image_named's result).

    Returns:
      (the name of the key that verified it, error): error is None or the message naming the
      image and why each signature found does not vouch for it.
    """
    found, looked, err = _candidates(get, digest)
    if err:
        return None, "{}: verify: {}".format(image, err)
    if not found:
        return None, "{}: verify: no cosign signature for {} ({}); sign it with `cosign sign --key cosign.key {}@{}` or oci_push's signing".format(image, digest, looked, repository, digest)
    why = []
    for c in found:
        ok, text = get("blobs", c.payload, c.payload, "")
        if not ok:
            why.append("{}: its payload {} could not be fetched".format(c.where, c.payload))
            continue
        err = check_payload(text, digest, repository)
        if err:
            why.append("{}: {}".format(c.where, err))
            continue
        name, err = verify_one(keys, c.payload, c.signature)
        if name:
            return name, None
        why.append("{}: {}".format(c.where, err))
    return None, "{}: verify: no signature of {} verifies: {}".format(image, digest, "; ".join(why))
