"""oci_pull's authentication: Docker config credentials and registry bearer tokens.

Bazel's own `--credential_helper` needs nothing here: its downloader adds the helper's
headers to every request of a matching host, over the `auth` given to rctx.download.
"""

load("//private:redact.bzl", "redact")
load(":base64.bzl", "b64decode_bytes")

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

def b64decode_ascii(s, what):
    """Decodes standard base64 whose content is printable ASCII (docker config `auth`).

    Args:
      s: the base64 text.
      what: what to name in errors.

    Returns:
      The decoded string.
    """
    values, err = b64decode_bytes(s, what)
    if err:
        fail("{}: not base64".format(what))
    if any([v < 32 or v > 126 for v in values]):
        fail("{}: only printable ASCII credentials are supported in `auth`; give `username` and `password` instead".format(what))
    return "".join([_PRINTABLE[v - 32] for v in values])

# The limit of one run of a docker-credential-* program, in seconds: the same as wharf's own
# credential helpers (HelperTimeout in tools/internal/credentials/run.go).
HELPER_TIMEOUT = 30

# Bazel's return code for an rctx.execute that ran out of time (real ones are 0..255).
_TIMED_OUT = 256

def _getenv(rctx, name):
    if hasattr(rctx, "getenv"):
        return rctx.getenv(name)
    return rctx.os.environ.get(name)

def helper_timeout(rctx):
    """The limit of one docker-credential-* run: $WHARF_CREDENTIAL_HELPER_TIMEOUT, else HELPER_TIMEOUT.

    Read from rctx.os.environ, so that changing it does not fetch the repositories again.

    Args:
      rctx: the repository context.

    Returns:
      (seconds, error): error is None or the message naming the variable.
    """
    v = rctx.os.environ.get("WHARF_CREDENTIAL_HELPER_TIMEOUT", "")
    if not v.strip():
        return HELPER_TIMEOUT, None
    if not v.strip().isdigit() or int(v.strip()) == 0:
        return None, "$WHARF_CREDENTIAL_HELPER_TIMEOUT is {}: want a whole number of seconds above 0 (default {})".format(repr(v), HELPER_TIMEOUT)
    return int(v.strip()), None

def _docker_hub_keys(registry):
    return ["https://index.docker.io/v1/", "index.docker.io", "docker.io"] if registry == "registry-1.docker.io" else []

def _docker_helper(rctx, helper, server, what):
    """Runs `docker-credential-<helper> get` with `server` on its stdin, within helper_timeout.

    rctx.execute has no stdin, so `sh` redirects it from a file in the repository holding
    the server name (not a secret), deleted right after. The answer stays in memory and is
    never quoted: a helper may print the secret even when it fails. Its stderr is quoted with
    URL userinfo masked (masked before it is cut short, so no cut leaves a secret unmasked).

    Returns:
      (creds, error): basic credentials, None when the helper has none for server, or False
      when the program is not on PATH; error is None or the message naming the helper.
    """
    prog = rctx.which("docker-credential-" + helper)
    if not prog:
        return False, None
    sh = rctx.which("sh")
    if not sh:
        return None, "{}: running docker-credential-{} needs `sh` on PATH".format(what, helper)
    timeout, err = helper_timeout(rctx)
    if err:
        return None, "{}: {}".format(what, err)
    req = "docker-credential-request.txt"
    rctx.file(req, server + "\n", executable = False)
    r = rctx.execute([sh, "-c", 'exec "$0" get < "$1"', str(prog), str(rctx.path(req))], timeout = timeout)
    rctx.delete(req)
    if r.return_code == _TIMED_OUT:
        return None, "{}: `docker-credential-{} get` for {} gave no answer within {}s: stopped ($WHARF_CREDENTIAL_HELPER_TIMEOUT sets the limit in seconds)".format(what, helper, server, timeout)
    if r.return_code != 0:
        # The helper protocol's answer for a server it does not know.
        if "credentials not found" in r.stdout + r.stderr:
            return None, None
        return None, "{}: `docker-credential-{} get` for {} failed (exit code {}): {}".format(what, helper, server, r.return_code, redact(r.stderr.strip())[:2000] or "nothing on stderr; its stdout is not shown: it may hold credentials")
    resp = json.decode(r.stdout.strip(), default = None)
    if type(resp) != "dict" or type(resp.get("Username")) != "string" or type(resp.get("Secret")) != "string":
        return None, "{}: `docker-credential-{} get` for {} did not print {{\"Username\": ..., \"Secret\": ...}}".format(what, helper, server)
    if resp["Username"] == "<token>":
        return None, "{}: docker-credential-{} gives an identity (OAuth2 refresh) token for {}, which oci_pull cannot exchange (Bazel's downloader only GETs); use a Bazel --credential_helper for this registry, or credentials in `auths`".format(what, helper, server)
    if not resp["Secret"]:
        return None, None
    return {"type": "basic", "login": resp["Username"], "password": resp["Secret"]}, None

_CONFIG_FIELDS = {"auths": "dict", "credHelpers": "dict", "credsStore": "string"}

def _docker_config(rctx):
    """The Docker config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json.

    Returns:
      (path, config, problem): config is None when there is none or it cannot be read as a
      Docker config; problem then says why, naming the file (None when there is no file).
    """
    cfg_dir = _getenv(rctx, "DOCKER_CONFIG")
    if not cfg_dir:
        home = _getenv(rctx, "HOME")
        if not home:
            return None, None, None
        cfg_dir = home + "/.docker"
    path = cfg_dir + "/config.json"
    if not rctx.path(path).exists:
        return path, None, None
    text = rctx.read(path)
    cfg = json.decode(text, default = None)
    if cfg == None and text.strip() != "null":
        return path, None, "{} is not valid JSON".format(path)
    if type(cfg) != "dict":
        return path, None, "{} is not a JSON object".format(path)
    for key, want in _CONFIG_FIELDS.items():
        if key in cfg and type(cfg[key]) != want:
            return path, None, "{}: {} must be {}".format(path, repr(key), "an object" if want == "dict" else "a string")
    return path, cfg, None

def docker_config_problem(rctx):
    """Why the Docker config gave no credentials, for the messages of failed downloads.

    A Docker config that cannot be read fails no pull (anonymous ones need none); a pull the
    registry refuses says that none of its credentials were used, and why.

    Args:
      rctx: the repository context.

    Returns:
      "" or ` (none of the Docker config's credentials were used: FILE is not valid JSON)`.
    """
    _, _, problem = _docker_config(rctx)
    return " (none of the Docker config's credentials were used: {})".format(problem) if problem else ""

def _docker_credentials(rctx, registry, who):
    """Basic credentials for registry from the Docker config.

    As Docker: `credHelpers` for the registry, else `credsStore`; then `auths` (which Docker
    skips when there is a credsStore).

    Returns:
      (creds, error): creds None for none; error is None or the message.
    """
    path, cfg, _ = _docker_config(rctx)
    if not cfg:
        return None, None
    keys = [registry, "https://" + registry, "http://" + registry] + _docker_hub_keys(registry)

    helpers = cfg.get("credHelpers", {})
    for key in keys:
        if helpers.get(key):
            what = "{}: {} credHelpers[{}]".format(who, path, key)
            creds, err = _docker_helper(rctx, helpers[key], key, what)
            if creds == False:
                err = "{}: docker-credential-{} is not on PATH (as Bazel's repository rules see it; --repo_env=PATH=... changes it)".format(what, helpers[key])
            if err or creds:
                return creds, err
            break
    store = cfg.get("credsStore")
    if store:
        what = "{}: {} credsStore".format(who, path)
        server = _docker_hub_keys(registry)[0] if _docker_hub_keys(registry) else registry
        creds, err = _docker_helper(rctx, store, server, what)
        if creds == False:
            # Docker Desktop writes a credsStore that other machines sharing the file lack.
            print("WARNING: {}: docker-credential-{} is not on PATH; pulling {} without it".format(what, store, registry))  # buildifier: disable=print
        elif err or creds:
            return creds, err
    return _auths_entry(cfg.get("auths", {}), keys, "{}: {} auths".format(who, path))

def _auths_entry(auths, keys, what):
    for key in keys:
        entry = auths.get(key)
        if entry == None:
            continue
        what = "{}[{}]".format(what, key)
        if type(entry) != "dict":
            return None, "{}: must be an object".format(what)
        if entry.get("username") and entry.get("password"):
            return {"type": "basic", "login": entry["username"], "password": entry["password"]}, None
        if entry.get("auth"):
            login, sep, password = b64decode_ascii(entry["auth"], what).partition(":")
            if not sep:
                return None, "{}: `auth` must be base64 of user:password".format(what)
            return {"type": "basic", "login": login, "password": password}, None
    return None, None

def authorization(rctx, ref, who):
    """The `auth` entry for the registry's URLs; fails with resolve_authorization's error.

    Args:
      rctx: the repository context (getenv or os.environ, path, read, download, delete, attr).
      ref: parse_image's result.
      who: what to name in errors.

    Returns:
      A bearer token pattern, basic credentials, or None (anonymous).
    """
    auth, err = resolve_authorization(rctx, ref, who)
    if err:
        fail(err)
    return auth

def resolve_authorization(rctx, ref, who):
    """authorization's answer, or its error.

    Args:
      rctx: the repository context.
      ref: parse_image's result.
      who: what to name in errors.

    Returns:
      (auth, error): error is None or the message.
    """
    creds, err = _docker_credentials(rctx, ref.registry, who)
    if err:
        return None, err
    realm, service = rctx.attr.token_realm, rctx.attr.token_service
    if not realm and ref.registry in _TOKEN_SERVERS:
        realm, service = _TOKEN_SERVERS[ref.registry]
    if not realm:
        return creds, None
    url = "{}?scope=repository:{}:pull".format(realm, ref.repository)
    if service:
        url += "&service=" + service
    out = "token.json"
    r = rctx.download(url = url, output = out, auth = {url: creds} if creds else {}, allow_fail = True)
    if not r.success:
        return None, "{}: could not get a pull token for {} from {} ({}). Check the credentials in ~/.docker/config.json (or $DOCKER_CONFIG) for {}.".format(
            who,
            ref.name,
            realm,
            "with basic credentials" if creds else "anonymously" + docker_config_problem(rctx),
            ref.registry,
        )
    resp = json.decode(rctx.read(out), default = None)
    rctx.delete(out)
    token = (resp.get("token") or resp.get("access_token")) if type(resp) == "dict" else None
    if not token or type(token) != "string":
        return None, "{}: the token endpoint {} returned no token for {}".format(who, realm, ref.name)
    return {"type": "pattern", "pattern": "Bearer <password>", "password": token}, None
