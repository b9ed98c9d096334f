"""Reading apko lock files (`apko.lock.json`), every shape apko has written."""

_KNOWN_TOP = ["version", "config", "contents"]
_KNOWN_CONTENTS = ["keyring", "repositories", "build_repositories", "runtime_repositories", "packages"]
_KNOWN_PACKAGE = ["name", "url", "version", "architecture", "signature", "control", "data", "checksum"]

def _err(what, msg):
    fail("lock {}: {}".format(what, msg))

def _str(d, key, where, what, required = True):
    v = d.get(key)
    if v == None:
        if required:
            _err(what, "{} has no {!r}".format(where, key))
        return ""
    if type(v) != "string":
        _err(what, "{}: {!r} must be a string, got {}".format(where, key, type(v)))
    return v

def _section(p, key, where, what):
    s = p.get(key)
    if s == None:
        return ("", "")
    if type(s) != "dict":
        _err(what, "{}: {!r} must be an object".format(where, key))
    return (_str(s, "range", where + "." + key, what, False), _str(s, "checksum", where + "." + key, what, False))

def _check_range(r, where, what):
    if not r:
        return
    if not r.startswith("bytes="):
        _err(what, "{}: range {!r} does not start with bytes=".format(where, r))
    lo, sep, hi = r[len("bytes="):].partition("-")
    if not sep or not lo.isdigit() or not hi.isdigit() or int(lo) > int(hi):
        _err(what, "{}: malformed range {!r}".format(where, r))

def _basename(u):
    return u.rstrip("/").rpartition("/")[2]

def parse_lock(text, what):
    """Parses and checks a lock.

    Args:
      text: the lock file's content.
      what: how to name the lock in errors.

    Returns:
      struct(keyring = [struct(key_name, url, content)], packages = [struct(...)] in lock order,
      repositories = {arch: [base URL]}).
    """
    if not text.strip():
        _err(what, "file is empty")
    lock = json.decode(text, default = None)
    if lock == None:
        _err(what, "not valid JSON")
    if type(lock) != "dict":
        _err(what, "top level must be an object")
    for k in lock:
        if k not in _KNOWN_TOP:
            _err(what, "unknown top-level field {!r} (this rules_wharf understands {})".format(k, ", ".join(_KNOWN_TOP)))
    version = lock.get("version", "v1")
    if version != "v1":
        _err(what, "unsupported lock version {!r} (want v1)".format(version))
    contents = lock.get("contents")
    if type(contents) != "dict":
        _err(what, "has no contents object")
    for k in contents:
        if k not in _KNOWN_CONTENTS:
            _err(what, "unknown contents field {!r}".format(k))

    keyring = []
    for i, k in enumerate(contents.get("keyring") or []):
        where = "keyring[{}]".format(i)
        if type(k) != "dict":
            _err(what, where + " must be an object")
        name = _str(k, "name", where, what, False)
        url = _str(k, "url", where, what, False)
        content = _str(k, "content", where, what, False)
        if not url and not content:
            _err(what, "{} ({}) has neither url nor content".format(where, name))
        key_name = _basename(url) if url else _basename(name)
        if not key_name:
            _err(what, where + " has no usable key file name")
        keyring.append(struct(key_name = key_name, url = url, content = content))

    repositories = {}
    for i, r in enumerate(contents.get("repositories") or []):
        where = "repositories[{}]".format(i)
        if type(r) != "dict":
            _err(what, where + " must be an object")
        name = _str(r, "name", where, what)
        arch = _str(r, "architecture", where, what, False)

        # apko records a repository per architecture; /etc/apk/repositories names its base.
        if arch and name.endswith("/" + arch):
            name = name[:-len(arch) - 1]
        for a in ([arch] if arch else []):
            if name not in repositories.setdefault(a, []):
                repositories[a].append(name)

    packages = []
    seen = {}
    for i, p in enumerate(contents.get("packages") or []):
        if type(p) != "dict":
            _err(what, "packages[{}] must be an object".format(i))
        name = _str(p, "name", "packages[{}]".format(i), what)
        where = "package {} (packages[{}])".format(name, i)
        for k in p:
            if k not in _KNOWN_PACKAGE:
                _err(what, "{}: unknown field {!r}".format(where, k))
        version = _str(p, "version", where, what)
        arch = _str(p, "architecture", where, what)
        url = _str(p, "url", where, what)
        sig_range, sig_checksum = _section(p, "signature", where, what)
        control_range, control_checksum = _section(p, "control", where, what)
        data_range, data_checksum = _section(p, "data", where, what)
        for r in [sig_range, control_range, data_range]:
            _check_range(r, where, what)
        if control_checksum and not control_checksum.startswith("sha1-"):
            _err(what, "{}: control checksum {!r} is not sha1-".format(where, control_checksum))
        if data_checksum and not data_checksum.startswith("sha256-"):
            _err(what, "{}: data checksum {!r} is not sha256-".format(where, data_checksum))
        if not control_checksum and not data_checksum:
            _err(what, "{}: no control or data checksum: nothing would pin this package".format(where))
        key = (name, arch)
        if key in seen:
            _err(what, "{}: {} for {} is listed twice".format(where, name, arch))
        seen[key] = True
        packages.append(struct(
            name = name,
            version = version,
            arch = arch,
            url = url,
            signature_range = sig_range,
            signature_checksum = sig_checksum,
            control_range = control_range,
            control_checksum = control_checksum,
            data_range = data_range,
            data_checksum = data_checksum,
        ))
    return struct(keyring = keyring, packages = packages, repositories = repositories)

def resolve_relative(base_dir, rel):
    """Joins a relative path onto a repository-relative directory.

    Args:
      base_dir: directory inside the repository ("" for its root).
      rel: relative path such as "../pkgs/x.apk" or "./x.apk".

    Returns:
      The normalized repository-relative path, or None if it leaves the repository.
    """
    if rel.startswith("/"):
        return None
    parts = [p for p in base_dir.split("/") if p]
    for seg in rel.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(seg)
    return "/".join(parts)
