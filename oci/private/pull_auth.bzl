"""oci_pull's authentication: Docker config credentials and registry bearer tokens.

Bazel's own `--credential_helper` needs nothing here: its downloader adds the helper's
headers to every request of a matching host, over the `auth` given to rctx.download.
"""

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

def _docker_hub_keys(registry):
    return ["https://index.docker.io/v1/", "index.docker.io", "docker.io"] if registry == "registry-1.docker.io" else []

def docker_credential_helper(rctx, helper, server, what):
    """Runs `docker-credential-<helper> get` with `server` on its stdin.

    rctx.execute has no stdin, so `sh` redirects it from a file in the repository holding
    the server name (not a secret), deleted right after. The answer stays in memory.

    Args:
      rctx: the repository context (which, file, path, execute, delete).
      helper: the helper's suffix (`ecr-login` for docker-credential-ecr-login).
      server: the registry, as the Docker config names it.
      what: what to name in errors (the repository and the config entry).

    Returns:
      Basic credentials, None when the helper has none for server, or False when the
      program is not on PATH.
    """
    prog = rctx.which("docker-credential-" + helper)
    if not prog:
        return False
    sh = rctx.which("sh")
    if not sh:
        fail("{}: running docker-credential-{} needs `sh` on PATH".format(what, helper))
    req = "docker-credential-request.txt"
    rctx.file(req, server + "\n", executable = False)
    r = rctx.execute([sh, "-c", 'exec "$0" get < "$1"', str(prog), str(rctx.path(req))], timeout = 60)
    rctx.delete(req)
    if r.return_code != 0:
        # The helper protocol's answer for a server it does not know.
        if "credentials not found" in r.stdout + r.stderr:
            return None
        fail("{}: `docker-credential-{} get` for {} failed (exit code {}): {}".format(what, helper, server, r.return_code, r.stderr.strip()[:2000]))
    resp = json.decode(r.stdout.strip(), default = None)
    if type(resp) != "dict" or type(resp.get("Username")) != "string" or type(resp.get("Secret")) != "string":
        # Never quote the output: it may hold the secret.
        fail("{}: `docker-credential-{} get` for {} did not print {{\"Username\": ..., \"Secret\": ...}}".format(what, helper, server))
    if resp["Username"] == "<token>":
        fail("{}: docker-credential-{} gives an identity (OAuth2 refresh) token for {}, which oci_pull cannot exchange (Bazel's downloader only GETs); use a Bazel --credential_helper for this registry, or credentials in `auths`".format(what, helper, server))
    if not resp["Secret"]:
        return None
    return {"type": "basic", "login": resp["Username"], "password": resp["Secret"]}

def _docker_credentials(rctx, registry, who):
    """Basic credentials for registry from $DOCKER_CONFIG/config.json or ~/.docker/config.json.

    As Docker: `credHelpers` for the registry, else `credsStore`; then `auths` (which Docker
    skips when there is a credsStore).
    """
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
    keys = [registry, "https://" + registry, "http://" + registry] + _docker_hub_keys(registry)

    helpers = cfg.get("credHelpers", {})
    for key in keys:
        if helpers.get(key):
            what = "{}: {} credHelpers[{}]".format(who, path, key)
            creds = docker_credential_helper(rctx, helpers[key], key, what)
            if creds == False:
                fail("{}: docker-credential-{} is not on PATH (as Bazel's repository rules see it; --repo_env=PATH=... changes it)".format(what, helpers[key]))
            if creds:
                return creds
            break
    store = cfg.get("credsStore")
    if store:
        what = "{}: {} credsStore".format(who, path)
        server = _docker_hub_keys(registry)[0] if _docker_hub_keys(registry) else registry
        creds = docker_credential_helper(rctx, store, server, what)
        if creds == False:
            # Docker Desktop writes a credsStore that other machines sharing the file lack.
            print("WARNING: {}: docker-credential-{} is not on PATH; pulling {} without it".format(what, store, registry))  # buildifier: disable=print
        elif creds:
            return creds

    auths = cfg.get("auths", {})
    for key in keys:
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
