"""oci_pull's authentication: Docker config credentials and registry bearer tokens."""

# Registries that want a bearer token even for anonymous pulls: token endpoint and service.
# `token_realm`/`token_service` override or extend this.
_TOKEN_SERVERS = {
    "registry-1.docker.io": ("https://auth.docker.io/token", "registry.docker.io"),
    "ghcr.io": ("https://ghcr.io/token", "ghcr.io"),
    "quay.io": ("https://quay.io/v2/auth", "quay.io"),
    "public.ecr.aws": ("https://public.ecr.aws/token", "public.ecr.aws"),
    "cgr.dev": ("https://cgr.dev/token", "cgr.dev"),
    "gcr.io": ("https://gcr.io/v2/token", "gcr.io"),
}

_PRINTABLE = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

def b64decode_ascii(s, what):
    """Decodes standard base64 whose content is printable ASCII (docker config `auth`).

    Args:
      s: the base64 text.
      what: what to name in errors.

    Returns:
      The decoded string.
    """
    s = s.strip().rstrip("=")
    out = ""
    bits = 0
    nbits = 0
    for c in s.elems():
        v = _B64.find(c)
        if v < 0:
            fail("{}: not base64".format(what))
        bits = (bits << 6) | v
        nbits += 6
        if nbits >= 8:
            nbits -= 8
            b = (bits >> nbits) & 0xff
            bits = bits & ((1 << nbits) - 1)
            if b < 32 or b > 126:
                fail("{}: only printable ASCII credentials are supported in `auth`; give `username` and `password` instead".format(what))
            out += _PRINTABLE[b - 32]
    return out

def _getenv(rctx, name):
    if hasattr(rctx, "getenv"):
        return rctx.getenv(name)
    return rctx.os.environ.get(name)

def _docker_credentials(rctx, registry, who):
    """Basic credentials for registry from $DOCKER_CONFIG/config.json or ~/.docker/config.json."""
    cfg_dir = _getenv(rctx, "DOCKER_CONFIG")
    if not cfg_dir:
        home = _getenv(rctx, "HOME")
        if not home:
            return None
        cfg_dir = home + "/.docker"
    path = rctx.path(cfg_dir + "/config.json")
    if not path.exists:
        return None
    cfg = json.decode(rctx.read(path))
    auths = cfg.get("auths", {})
    for key in [registry, "https://" + registry, "http://" + registry] + (
        ["https://index.docker.io/v1/", "index.docker.io", "docker.io"] if registry == "registry-1.docker.io" else []
    ):
        entry = auths.get(key)
        if entry == None:
            continue
        what = "{}: {} auths[{}]".format(who, path, key)
        if entry.get("username") and entry.get("password"):
            return {"type": "basic", "login": entry["username"], "password": entry["password"]}
        if entry.get("auth"):
            login, sep, password = b64decode_ascii(entry["auth"], what).partition(":")
            if not sep:
                fail("{}: `auth` must be base64 of user:password".format(what))
            return {"type": "basic", "login": login, "password": password}
    return None

def authorization(rctx, ref, who):
    """The `auth` entry for the registry's URLs.

    Args:
      rctx: the repository context (getenv or os.environ, path, read, download, delete, attr).
      ref: parse_image's result.
      who: what to name in errors.

    Returns:
      A bearer token pattern, basic credentials, or None (anonymous).
    """
    creds = _docker_credentials(rctx, ref.registry, who)
    realm, service = rctx.attr.token_realm, rctx.attr.token_service
    if not realm and ref.registry in _TOKEN_SERVERS:
        realm, service = _TOKEN_SERVERS[ref.registry]
    if not realm:
        return creds
    url = "{}?scope=repository:{}:pull".format(realm, ref.repository)
    if service:
        url += "&service=" + service
    out = "token.json"
    r = rctx.download(url = url, output = out, auth = {url: creds} if creds else {}, allow_fail = True)
    if not r.success:
        fail("{}: could not get a pull token for {} from {} ({}). Check the credentials in ~/.docker/config.json (or $DOCKER_CONFIG) for {}.".format(
            who,
            ref.name,
            realm,
            "with basic credentials" if creds else "anonymously",
            ref.registry,
        ))
    resp = json.decode(rctx.read(out))
    rctx.delete(out)
    token = resp.get("token") or resp.get("access_token")
    if not token:
        fail("{}: the token endpoint {} returned no token for {}".format(who, realm, ref.name))
    return {"type": "pattern", "pattern": "Bearer <password>", "password": token}
