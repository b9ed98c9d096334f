"""Unit tests of oci.pull(verify = ...): the P-256 verifier against Go's vectors, and the search
for a pulled image's cosign signature with its messages."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts", "unittest")
load("//oci/private:base64.bzl", "b64decode_bytes")
load("//oci/private:cosign.bzl", "SIGNATURE_ARTIFACT_TYPE", "SIMPLE_SIGNING", "check_payload", "load_keys", "policy_keys", "referrer_signatures", "signature_tag", "verify_image")
load("//oci/private:ecdsa.bzl", "p256_verify", "parse_pem_keys", "parse_signature")
load("//oci/private/providers:oci_layout_origin_info.bzl", "OciLayoutOriginInfo")
load("//oci/private/rules:pulled_layout.bzl", "oci_pulled_layout")
load(":ecdsa_vectors.bzl", "ECDSA_VECTORS")

def _verdict(case):
    keys, err = parse_pem_keys(case["key"], "key")
    if err:
        return "key: " + err
    der, err = b64decode_bytes(case["signature"], "signature")
    if err:
        return "malformed"
    r, s, err = parse_signature(der)
    if err:
        return "malformed"
    return "invalid" if p256_verify(keys[0], int(case["digest"], 16), r, s) else "ok"

def _vectors_impl(ctx):
    env = unittest.begin(ctx)
    for case in ECDSA_VECTORS["signatures"]:
        asserts.equals(env, case["want"], _verdict(case), case["name"])
    for case in ECDSA_VECTORS["keys"]:
        keys, err = parse_pem_keys(case["key"], "k.pem")
        asserts.equals(env, None, keys, case["name"])
        asserts.true(env, err and case["error"] in err, "{}: {} lacks {}".format(case["name"], err, case["error"]))
    return unittest.end(env)

vectors_test = unittest.make(_vectors_impl)

def _messages_impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, [102, 111, 111, 98], b64decode_bytes("Zm9v\nYg==", "t")[0])
    asserts.equals(env, "t: not base64 (\"!\" is not a base64 character)", b64decode_bytes("Zm9!", "t")[1])
    asserts.equals(env, "signature: tag 0x02 where 0x30 was expected", parse_signature([2, 1, 1])[2])
    _, err = parse_pem_keys("-----BEGIN PUBLIC KEY-----\nAAAA\n", "k.pem")
    asserts.equals(env, "k.pem: PEM block 1 (PUBLIC KEY): no matching -----END PUBLIC KEY-----", err)

    # Two keys in one file are both keys.
    both = ECDSA_VECTORS["cosign"]["key_a"] + ECDSA_VECTORS["cosign"]["key_b"]
    asserts.equals(env, 2, len(parse_pem_keys(both, "k.pem")[0]))
    asserts.equals(env, "sha256-" + "ab" * 32 + ".sig", signature_tag("sha256:" + "ab" * 32))
    return unittest.end(env)

messages_test = unittest.make(_messages_impl)

_C = ECDSA_VECTORS["cosign"]
_REPO = _C["repository"]
_IMAGE = "oci_pull base: image {}@{}".format(_REPO, _C["image"])

def _payload(name):
    return [p for p in _C["payloads"] if p["name"] == name][0]

def _manifest(*layers):
    return json.encode({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [
        {"mediaType": SIMPLE_SIGNING, "digest": p["digest"], "size": len(p["payload"]), "annotations": {"dev.cosignproject.cosign/signature": sig}}
        for p, sig in layers
    ]})

def _registry(served):
    """A get (see verify_image) serving paths from a dict; it checks a pinned digest is asked for by it."""
    calls = []

    def get(kind, name, digest, accept):
        path = kind + "/" + name
        calls.append(path)
        if kind == "referrers" and accept != "application/vnd.oci.image.index.v1+json":
            fail("referrers asked for with Accept: " + accept)
        if path not in served:
            return False, ""
        if digest and kind in ["manifests", "blobs"] and name != digest:
            fail("asked for " + path + " with sha256 " + digest)
        return True, served[path]

    return get, calls

def _served(sig_manifest, use_referrers = False):
    served = {"blobs/" + p["digest"]: p["payload"] for p in _C["payloads"]}
    if use_referrers:
        d = "sha256:" + "7" * 64
        served["referrers/" + _C["image"]] = json.encode({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "8" * 64, "artifactType": "application/vnd.example.sbom"},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "artifactType": SIGNATURE_ARTIFACT_TYPE},
        ]})
        served["manifests/" + d] = sig_manifest
    else:
        served["manifests/" + signature_tag(_C["image"])] = sig_manifest
    return served

def _keys(*pems):
    return [struct(name = name, point = parse_pem_keys(_C[pem], name)[0][0]) for name, pem in pems]

def _verify(served, keys):
    get, _ = _registry(served)
    return verify_image(get, keys, _C["image"], _REPO, _IMAGE)

def _search_impl(ctx):
    env = unittest.begin(ctx)
    good = _payload("image")
    a, b = _keys(("a.pub", "key_a")), _keys(("b.pub", "key_b"))

    # Found under the tag, and as a referrer (only the signature artifact is fetched).
    asserts.equals(env, ("a.pub", None), _verify(_served(_manifest((good, good["signature"]))), a))
    asserts.equals(env, ("a.pub", None), _verify(_served(_manifest((good, good["signature"])), use_referrers = True), a))
    get, calls = _registry(_served(_manifest((good, good["signature"])), use_referrers = True))
    verify_image(get, a, _C["image"], _REPO, _IMAGE)
    asserts.false(env, "manifests/sha256:" + "8" * 64 in calls, "a referrer of another artifactType is not fetched")

    # Any one key verifying is enough; a second signature by another key does not matter.
    asserts.equals(env, ("a.pub", None), _verify(_served(_manifest((good, good["signature"]))), b + a))
    asserts.equals(env, ("a.pub", None), _verify(_served(_manifest((good, "MEQCIAf2"), (good, good["signature"]))), a))
    want = ["referrers/" + _C["image"], "manifests/" + signature_tag(_C["image"]), "blobs/" + good["digest"]]
    asserts.equals(env, want, _calls_of(_served(_manifest((good, good["signature"]))), a))
    return unittest.end(env)

def _calls_of(served, keys):
    get, calls = _registry(served)
    verify_image(get, keys, _C["image"], _REPO, _IMAGE)
    return calls

search_test = unittest.make(_search_impl)

def _refusals_impl(ctx):
    env = unittest.begin(ctx)
    good = _payload("image")
    a, b = _keys(("a.pub", "key_a")), _keys(("b.pub", "key_b"))
    tag = signature_tag(_C["image"])
    no_sig = "{}: verify: no cosign signature for {} (referrers of artifactType {}: no referrers API or none; tag {}: none); sign it with `cosign sign --key cosign.key {}@{}` or oci_push's signing".format(_IMAGE, _C["image"], SIGNATURE_ARTIFACT_TYPE, tag, _REPO, _C["image"])
    asserts.equals(env, (None, no_sig), _verify({}, a))
    prefix = "{}: verify: no signature of {} verifies: tag {} layer 0: ".format(_IMAGE, _C["image"], tag)
    asserts.equals(env, (None, prefix + "signed by another key (none of b.pub verifies it)"), _verify(_served(_manifest((good, good["signature"]))), b))
    other = _payload("another digest")
    asserts.equals(env, (None, prefix + "the payload names digest sha256:{}, not {}".format("1" * 64, _C["image"])), _verify(_served(_manifest((other, other["signature"]))), a))
    other = _payload("another repository")
    asserts.equals(env, (None, prefix + "the payload names repository registry.example.com/wharf/other, not " + _REPO), _verify(_served(_manifest((other, other["signature"]))), a))
    asserts.equals(env, (None, prefix + "malformed signature: signature: truncated"), _verify(_served(_manifest((good, "MEQCIAf2"))), a))
    asserts.equals(env, (None, prefix + "malformed signature: the signature annotation: not base64 (\"*\" is not a base64 character)"), _verify(_served(_manifest((good, "MEQ*"))), a))
    asserts.equals(env, (None, prefix + "malformed signature: r is out of range"), _verify(_served(_manifest((good, "MAYCAQACAQE="))), a))
    served = _served(_manifest((good, good["signature"])))
    served.pop("blobs/" + good["digest"])
    asserts.equals(env, (None, prefix + "its payload {} could not be fetched".format(good["digest"])), _verify(served, a))
    asserts.equals(env, (None, "{}: verify: tag {}: not an image manifest with layers".format(_IMAGE, tag)), _verify(_served("[]"), a))
    return unittest.end(env)

refusals_test = unittest.make(_refusals_impl)

def _payload_impl(ctx):
    env = unittest.begin(ctx)
    d = "sha256:" + "ab" * 32
    ok = json.encode({"critical": {"identity": {"docker-reference": "docker.io/alpine"}, "image": {"docker-manifest-digest": d}}})
    asserts.equals(env, None, check_payload(ok, d, "index.docker.io/library/alpine"))
    asserts.equals(env, "the payload is not a cosign simple-signing payload (no critical.image and critical.identity)", check_payload("{}", d, "r/a"))
    asserts.equals(env, "the payload is not a cosign simple-signing payload (no critical.image and critical.identity)", check_payload("not json", d, "r/a"))
    asserts.equals(env, None, referrer_signatures("404 page"))
    asserts.equals(env, [], referrer_signatures(json.encode({"manifests": [{"digest": "sha256:x", "artifactType": SIGNATURE_ARTIFACT_TYPE}]})))
    return unittest.end(env)

payload_test = unittest.make(_payload_impl)

def _policy_impl(ctx):
    env = unittest.begin(ctx)
    policy = json.encode({"images": [
        {"prefix": "ghcr.io/org/", "keys": ["org.pub"]},
        {"prefix": "ghcr.io/org/base", "keys": ["base.pub", "base2.pub"]},
        {"prefix": "docker.io/library/", "keys": ["hub.pub"]},
    ]})
    asserts.equals(env, (["base.pub", "base2.pub"], None), policy_keys(policy, "p.json", "ghcr.io/org/base", "t"))
    asserts.equals(env, (["org.pub"], None), policy_keys(policy, "p.json", "ghcr.io/org/app", "t"))
    asserts.equals(env, (["hub.pub"], None), policy_keys(policy, "p.json", "index.docker.io/library/alpine", "t"))
    asserts.equals(env, (None, "t: verify policy p.json has no entry whose prefix matches quay.io/x"), policy_keys(policy, "p.json", "quay.io/x", "t"))
    asserts.equals(env, (None, "t: verify policy p.json: want a JSON object with \"images\": [{\"prefix\": ..., \"keys\": [...]}]"), policy_keys("[]", "p.json", "quay.io/x", "t"))
    asserts.equals(env, (None, "t: verify policy p.json: images[0] needs \"prefix\" (a string) and \"keys\" (a non-empty list of key file paths)"), policy_keys(json.encode({"images": [{"prefix": "a/", "keys": []}]}), "p.json", "quay.io/x", "t"))

    # Key files through a policy, relative to it; a missing one and a bad one are named.
    files = {
        "keys/p.json": policy,
        "keys/org.pub": _C["key_a"],
        "keys/base.pub": _C["key_b"],
        "keys/base2.pub": ECDSA_VECTORS["keys"][0]["key"],
    }
    rctx = _fake_fs(files)
    p = Label("//keys:p.json")
    keys, err = load_keys(rctx, [p], "t", "ghcr.io/org/app")
    asserts.equals(env, (["org.pub ({})".format(p)], None), ([k.name for k in keys], err))
    _, err = load_keys(rctx, [p], "t", "ghcr.io/org/base")
    asserts.equals(env, "t: verify key base2.pub ({}): PEM block 1: RSA keys are not supported: ECDSA P-256 only (cosign generate-key-pair's keys)".format(p), err)
    _, err = load_keys(rctx, [p], "t", "index.docker.io/library/alpine")
    asserts.equals(env, "t: verify policy {} names key hub.pub, which does not exist beside it".format(p), err)
    keys, err = load_keys(rctx, [Label("//keys:base.pub"), Label("//keys:org.pub")], "t", "quay.io/x")
    asserts.equals(env, ([str(Label("//keys:base.pub")), str(Label("//keys:org.pub"))], None), ([k.name for k in keys], err))
    return unittest.end(env)

policy_test = unittest.make(_policy_impl)

def _path(files, p):
    return struct(
        p = p,
        exists = p in files,
        dirname = struct(get_child = lambda n: _path(files, p.rpartition("/")[0] + "/" + n)),
    )

def _fake_fs(files):
    """A repository context reading files["PACKAGE/NAME"] for labels and paths alike."""

    def key(f):
        return f.p if hasattr(f, "p") else f.package + "/" + f.name

    return struct(
        read = lambda f: files[key(f)],
        path = lambda f: _path(files, key(f)),
    )

_REQUIRE = str(Label("//oci/settings:require_verified_base"))

def _unverified_refused_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "image registry.example.com/wharf/base@sha256:00 was pulled without verify, and --@rules_wharf//oci/settings:require_verified_base is set: give its oci.pull (or oci_pull) verify = [\"//keys:cosign.pub\"]")
    return analysistest.end(env)

_unverified_refused_test = analysistest.make(_unverified_refused_impl, expect_failure = True, config_settings = {_REQUIRE: True})

def _verified_by_impl(ctx):
    env = analysistest.begin(ctx)
    origin = analysistest.target_under_test(env)[OciLayoutOriginInfo]
    asserts.equals(env, ctx.attr.want, origin.verified_by)
    asserts.equals(env, "registry.example.com/wharf/base", origin.repository)
    return analysistest.end(env)

_verified_by_test = analysistest.make(_verified_by_impl, attrs = {"want": attr.string()}, config_settings = {_REQUIRE: True})
_verified_by_flag_off_test = analysistest.make(_verified_by_impl, attrs = {"want": attr.string()})

def verified_base_test_suite(name):
    """Pulled layouts with and without a verifying key, under require_verified_base.

    Args:
      name: the suite's name.
    """
    for layout, verified_by in [("unverified", ""), ("verified", "@@//keys:cosign.pub")]:
        oci_pulled_layout(
            name = name + "_" + layout,
            srcs = ["pulled/layout/index.json"],
            image = "registry.example.com/wharf/base@sha256:00",
            repository = "registry.example.com/wharf/base",
            verified_by = verified_by,
            tags = ["manual"],
        )
    _unverified_refused_test(name = name + "_unverified_refused", target_under_test = name + "_unverified")
    _verified_by_test(name = name + "_verified_by", target_under_test = name + "_verified", want = "@@//keys:cosign.pub")
    _verified_by_flag_off_test(name = name + "_unverified_allowed", target_under_test = name + "_unverified", want = "")
    native.test_suite(name = name, tests = [name + "_unverified_refused", name + "_verified_by", name + "_unverified_allowed"])
