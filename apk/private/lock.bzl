"""Reading apko lock files (`apko.lock.json`), every shape apko has written.

`decode_lock` returns an error message instead of failing, so that every rejected lock has a
unit test (a Starlark unit test cannot catch `fail`); `parse_lock` fails with that message.
"""

load("//private:redact.bzl", "redact", "redact_location", "without_userinfo")

# Every field some apko release writes (read from apko's lock writer, v0.11 `resolve` to
# v1.2.39; docs/apk.md has the table), plus `archs`; anything else is a typo or a lock from a
# tool we do not know, and is rejected by name.
_KNOWN_TOP = ["version", "config", "contents"]
_KNOWN_CONFIG = ["name", "checksum"]
_KNOWN_CONTENTS = ["keyring", "build_repositories", "runtime_repositories", "repositories", "packages", "archs"]
_KNOWN_KEYRING = ["name", "url", "content"]
_KNOWN_REPO = ["name", "url", "architecture"]
_KNOWN_PACKAGE = ["name", "url", "version", "architecture", "signature", "control", "data", "checksum"]
_KNOWN_RANGE = ["range", "checksum"]

# One locked package: the fields of decode_lock's packages, `apk_import`'s attributes and
# the JSON `apk_import_group` holds per package are these (tools/internal/apk/lockfile's
# Record has the same; apk/private/tests/lock_corpus checks both parsers give them).
PACKAGE_FIELDS = {
    "package_name": "Package name.",
    "version": "Package version.",
    "arch": "APK architecture.",
    "url": "The lock's URL for the package.",
    "signature_range": "Signature member byte range (`bytes=a-b`), empty when unsigned.",
    "signature_checksum": "Signature member checksum (`sha1-...`).",
    "control_range": "Control member byte range.",
    "control_checksum": "Control member checksum (`sha1-...`).",
    "data_range": "Data member byte range.",
    "data_checksum": "Data member checksum (`sha256-...`).",
}

# The fields every entry has (the others may be empty).
PACKAGE_REQUIRED = ["package_name", "version", "arch", "url"]

# The fields apk_package (and ApkPackageInfo) take under the same names: the generated BUILD
# file passes these; the ranges become its parts and data_size.
APK_PACKAGE_RECORD_FIELDS = ["package_name", "version", "arch", "url", "control_checksum", "data_checksum"]

# Printable ASCII from 0x20, for percent-decoding (Starlark has no chr()).
_ASCII = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
_HEX = "0123456789abcdef"

# json.decode's answer for what is not JSON (None is the JSON null).
_INVALID = struct(invalid_json = True)

def percent_decode(s):
    """Decodes %XX escapes of printable ASCII (key names in Alpine's key URLs: %40 is @).

    Args:
      s: a URL path segment.

    Returns:
      s with each %XX of a printable ASCII character decoded; other escapes stay as they are.
    """
    if "%" not in s:
        return s
    out = []
    i = 0

    # Starlark has no while: at most one step per character.
    for _ in range(len(s)):
        if i >= len(s):
            break
        if s[i] == "%" and i + 2 < len(s):
            hi, lo = _HEX.find(s[i + 1].lower()), _HEX.find(s[i + 2].lower())
            code = hi * 16 + lo
            if hi >= 0 and lo >= 0 and code >= 0x20 and code < 0x7f:
                out.append(_ASCII[code - 0x20])
                i += 3
                continue
        out.append(s[i])
        i += 1
    return "".join(out)

def _kind(v):
    t = type(v)
    return {"dict": "an object", "list": "a list", "string": "a string", "int": "a number", "float": "a number", "bool": "a boolean", "NoneType": "null"}.get(t, t)

def _unknown(d, known, where):
    unknown = sorted([k for k in d if k not in known])
    if unknown:
        return "{}: unknown field {} (apko writes: {})".format(where, ", ".join([repr(k) for k in unknown]), ", ".join(known))
    return None

def _object(v, where, known):
    if type(v) != "dict":
        return "{} must be an object, got {}".format(where, _kind(v))
    return _unknown(v, known, where)

def _str(d, key, where, required = False):
    """Returns (value, error): absent or null is "" (an error when required)."""
    v = d.get(key)
    if v == None:
        if required:
            return "", "{} has no {}".format(where, repr(key))
        return "", None
    if type(v) != "string":
        return "", "{}: {} must be a string, got {}".format(where, repr(key), _kind(v))
    if required and not v:
        return "", "{}: {} is empty".format(where, repr(key))
    return v, None

def _list(d, key, where):
    v = d.get(key)
    if v == None:
        return [], None
    if type(v) != "list":
        return [], "{}: {} must be a list, got {}".format(where, repr(key), _kind(v))
    return v, None

def _range_error(r, where, any_end):
    if not r:
        return None
    if not r.startswith("bytes="):
        return "{}: range {} does not start with bytes=".format(where, repr(r))
    lo, sep, hi = r[len("bytes="):].partition("-")
    if not sep or not lo.isdigit() or not hi.isdigit() or (int(lo) > int(hi) and not any_end):
        return "{}: malformed range {} (want bytes=FIRST-LAST)".format(where, repr(r))
    return None

def _section(p, key, where, prefix):
    """A package's signature, control or data section: returns (range, checksum, error)."""
    s = p.get(key)
    w = "{}: {}".format(where, key)
    if s == None:
        return "", "", None
    err = _object(s, w, _KNOWN_RANGE)
    if err:
        return "", "", err
    r, err = _str(s, "range", w)
    if err:
        return "", "", err
    c, err = _str(s, "checksum", w)
    if err:
        return "", "", err

    # apko 0.13 to 0.16 wrote the installed size as the data range's end; the data member
    # runs to the end of the file, and is fetched so.
    err = _range_error(r, w, key == "data")
    if err:
        return "", "", err
    if c and not c.startswith(prefix):
        return "", "", "{}: checksum {} is not {}…".format(w, repr(c), prefix)
    if r and not c:
        return "", "", "{}: has a range but no checksum: nothing would pin those bytes".format(w)
    return r, c, None

def _basename(u):
    return u.rstrip("/").rpartition("/")[2]

def repository_line(name, url, arch):
    """The /etc/apk/repositories line apko writes for a lock's repository entry.

    apko writes the configuration's repository as given: its URL with the scheme, a tag
    (`@local https://...`) kept in front. The lock's `url` is the APKINDEX's address and its
    `name` the repository without the scheme, both per architecture; apko v0.13 to v0.16
    kept a tag in both; later releases drop it from the lock, and so the line has none.

    Args:
      name: the entry's `name`.
      url: the entry's `url`.
      arch: the entry's `architecture`.

    Returns:
      The line, without the architecture and without a URL's userinfo.
    """
    tag = ""
    if name.startswith("@"):
        tag, _, name = name.partition(" ")
        tag += " "
    base = url
    if base.endswith("/APKINDEX.tar.gz"):
        base = base[:-len("/APKINDEX.tar.gz")]
    if not base:
        base = name
    if tag and base.startswith("@"):
        base = base.partition(" ")[2]
    if arch and base.endswith("/" + arch):
        base = base[:-len(arch) - 1]
    if not base:
        return ""

    # The image is shipped: credentials the lock should not have held stay out of it.
    return without_userinfo(tag + base)

def decode_lock(text, what):
    """Parses and checks a lock.

    Args:
      text: the lock file's content.
      what: how to name the lock in errors (its label).

    Returns:
      (lock, error): error is None or the message a user reads, naming the lock, the entry and
      the field. lock is struct(keyring = [struct(key_name, url, content)], packages =
      [struct of PACKAGE_FIELDS] in lock order, repositories = {arch: [line]}, archs = [arch]).
    """
    lock, err = _decode(text)
    if err:
        return None, redact("lock {}: {}".format(what, err))
    return lock, None

def parse_lock(text, what):
    """Like decode_lock, but fails with the error.

    Args:
      text: the lock file's content.
      what: how to name the lock in errors.

    Returns:
      The lock, as decode_lock returns it.
    """
    lock, err = decode_lock(text, what)
    if err:
        fail(err)
    return lock

def _decode(text):
    if not text.strip():
        return None, "the file is empty"
    lock = json.decode(text, default = _INVALID)
    if lock == _INVALID:
        return None, "not valid JSON"
    if type(lock) != "dict":
        return None, "the top level must be an object, got {}".format(_kind(lock))
    err = _unknown(lock, _KNOWN_TOP, "top level")
    if err:
        return None, err
    version, err = _str(lock, "version", "top level")
    if err:
        return None, err
    if version and version != "v1":
        return None, "unsupported lock version {} (this rules_wharf reads v1)".format(repr(version))
    if lock.get("config") != None:
        err = _object(lock["config"], "config", _KNOWN_CONFIG)
        if err:
            return None, err
        for k in _KNOWN_CONFIG:
            _, err = _str(lock["config"], k, "config")
            if err:
                return None, err
    contents = lock.get("contents")
    if contents == None:
        return None, "has no contents object"
    err = _object(contents, "contents", _KNOWN_CONTENTS)
    if err:
        return None, err

    keyring, err = _keyring(contents)
    if err:
        return None, err
    repositories, repo_archs, err = _repositories(contents)
    if err:
        return None, err
    packages, err = _packages(contents)
    if err:
        return None, err

    archs, err = _list(contents, "archs", "contents")
    if err:
        return None, err
    for i, a in enumerate(archs):
        if type(a) != "string":
            return None, "contents: archs[{}] must be a string, got {}".format(i, _kind(a))
        if not a:
            return None, "contents: archs[{}] is empty".format(i)
    all_archs = []
    for a in list(archs) + repo_archs + [p.arch for p in packages]:
        if a not in all_archs:
            all_archs.append(a)
    return struct(keyring = keyring, packages = packages, repositories = repositories, archs = all_archs), None

def _keyring(contents):
    items, err = _list(contents, "keyring", "contents")
    if err:
        return None, err
    keyring = []
    names = {}
    for i, k in enumerate(items):
        where = "keyring[{}]".format(i)
        err = _object(k, where, _KNOWN_KEYRING)
        if err:
            return None, err
        name, err = _str(k, "name", where)
        if err:
            return None, err
        url, err = _str(k, "url", where)
        if err:
            return None, err
        content, err = _str(k, "content", where)
        if err:
            return None, err
        where = "{} ({})".format(where, redact_location(name or url or "no name"))
        if not url and not content:
            return None, where + " has neither url nor content"

        # Signatures name the key file (.SIGN.RSA.<name>); a URL escapes it (Alpine's
        # alpine-devel%40lists.alpinelinux.org-....rsa.pub is signed as ...@...).
        key_name = percent_decode(_basename(url) if url else _basename(name))
        if not key_name or key_name in (".", ".."):
            return None, where + " has no usable key file name"
        if key_name in names and names[key_name] != (url, content):
            return None, "{}: another entry, {}, is also named {}: signatures could not tell them apart".format(where, redact_location(names[key_name][0] or "embedded"), key_name)
        if key_name in names:
            continue
        names[key_name] = (url, content)
        keyring.append(struct(key_name = key_name, url = url, content = content))
    return keyring, None

def _repositories(contents):
    """Returns ({arch: [/etc/apk/repositories line]}, [arch], error)."""
    repositories = {}
    archs = []

    # apko writes /etc/apk/repositories from the repositories and the runtime-only ones,
    # sorted and without duplicates; build-only ones served the lock and are not in the image.
    for key in ["repositories", "runtime_repositories", "build_repositories"]:
        items, err = _list(contents, key, "contents")
        if err:
            return None, None, err
        for i, r in enumerate(items):
            where = "{}[{}]".format(key, i)
            err = _object(r, where, _KNOWN_REPO)
            if err:
                return None, None, err
            name, err = _str(r, "name", where, required = True)
            if err:
                return None, None, err
            where = "{} ({})".format(where, redact_location(name))
            url, err = _str(r, "url", where)
            if err:
                return None, None, err
            arch, err = _str(r, "architecture", where)
            if err:
                return None, None, err
            if arch and arch not in archs:
                archs.append(arch)
            if key == "build_repositories":
                continue
            line = repository_line(name, url, arch)
            for a in ([arch] if arch else []):
                if line not in repositories.setdefault(a, []):
                    repositories[a].append(line)
    return {a: sorted(lines) for a, lines in repositories.items()}, archs, None

def _bad_name(s):
    """Why a package's name, version or architecture cannot be one ("" if it can).

    They become file and repository names, so no "/", no "." or "..", no spaces or control
    characters, as apk never makes them (tools/internal/apk/lockfile does the same).
    """
    if s in (".", ".."):
        return "it is a relative directory name"
    if "/" in s or "\\" in s:
        return "it contains a path separator"
    for c in s.elems():
        if c <= " " or c == "\177":
            return "it contains a space or control character"
    return ""

def _packages(contents):
    items, err = _list(contents, "packages", "contents")
    if err:
        return None, err
    packages = []
    seen = {}
    for i, p in enumerate(items):
        # Every lock is read again whenever one changes: the usual entry takes the quick
        # checks, and only one they do not pass goes through the checks that name the field.
        pkg = _plain_package(p)
        if pkg == None:
            pkg, err = _package(p, _where(p, i))
            if err:
                return None, err
        key = (pkg.package_name, pkg.arch)
        if key in seen:
            return None, "{}: {} for {} is listed twice (first as packages[{}])".format(_where(p, i), pkg.package_name, pkg.arch, seen[key])
        seen[key] = i
        packages.append(pkg)
    return packages, None

def _where(p, i):
    if type(p) == "dict" and type(p.get("name")) == "string" and p["name"]:
        return "package {} (packages[{}])".format(p["name"], i)
    return "packages[{}]".format(i)

def _package_struct(name, version, arch, url, signature, control, data):
    return struct(
        package_name = name,
        version = version,
        arch = arch,
        url = url,
        signature_range = signature[0],
        signature_checksum = signature[1],
        control_range = control[0],
        control_checksum = control[1],
        data_range = data[0],
        data_checksum = data[1],
    )

def package_record(p):
    """A locked package as a dict of PACKAGE_FIELDS: `apk_import`'s attributes, as JSON in `apk_import_group`.

    Args:
      p: a package of decode_lock's lock.

    Returns:
      {field: value} for every field of PACKAGE_FIELDS.
    """
    return {f: getattr(p, f) for f in PACKAGE_FIELDS}

def _package(p, where):
    """One package entry, every check with its message: returns (struct, error)."""
    err = _object(p, where, _KNOWN_PACKAGE)
    if err:
        return None, err
    fields = {}
    for k in ["name", "version", "architecture", "url"]:
        fields[k], err = _str(p, k, where, required = True)
        if err:
            return None, err
    for k in ["name", "version", "architecture"]:
        why = _bad_name(fields[k])
        if why:
            return None, "{}: {} {} is not usable: {}".format(where, k, repr(fields[k]), why)
    checksum, err = _str(p, "checksum", where)
    if err:
        return None, err
    sig_range, sig_checksum, err = _section(p, "signature", where, "sha1-")
    if err:
        return None, err
    control_range, control_checksum, err = _section(p, "control", where, "sha1-")
    if err:
        return None, err
    data_range, data_checksum, err = _section(p, "data", where, "sha256-")
    if err:
        return None, err
    if checksum:
        # Q1 + base64(sha1 of the control member), as in APKINDEX: the same sha1 as control.
        if not checksum.startswith("Q1"):
            return None, "{}: checksum {} is not Q1…".format(where, repr(checksum))
        if control_checksum and checksum[2:] != control_checksum[len("sha1-"):]:
            return None, "{}: checksum {} and control checksum {} disagree: they are the same sha1 of the control member".format(where, repr(checksum), repr(control_checksum))
        if not control_checksum:
            control_checksum = "sha1-" + checksum[2:]
    if not control_checksum and not data_checksum:
        return None, "{}: no control or data checksum: nothing would pin this package".format(where)
    return _package_struct(
        fields["name"],
        fields["version"],
        fields["architecture"],
        fields["url"],
        (sig_range, sig_checksum),
        (control_range, control_checksum),
        (data_range, data_checksum),
    ), None

# Characters of the usual package name, version and architecture: with none other, a name
# passes _bad_name (no separator, space or control character).
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+~"

_DOTS = (".", "..")

def _plain_section(s, prefix, any_end):
    """(range, checksum) of a section _section accepts, or None where it might not."""
    if s == None:
        return ("", "")
    if type(s) != "dict":
        return None
    for k in s:
        if k != "range" and k != "checksum":
            return None
    r = s.get("range")
    c = s.get("checksum")
    if r == None:
        r = ""
    if c == None:
        c = ""
    if type(r) != "string" or type(c) != "string":
        return None

    # _range_error builds its message only for a range it rejects.
    if r and (not c or _range_error(r, "", any_end)):
        return None
    if c and not c.startswith(prefix):
        return None
    return (r, c)

def _plain_package(p):
    """The package of an entry _package accepts as it is, or None where it might not.

    The same checks as _package, without building messages; None sends the entry through
    _package, which names what is wrong (lock_test.bzl has every case).
    """
    if type(p) != "dict":
        return None
    for k in p:
        if k not in _KNOWN_PACKAGE:
            return None
    name, version, arch, url = p.get("name"), p.get("version"), p.get("architecture"), p.get("url")
    if type(name) != "string" or type(version) != "string" or type(arch) != "string" or type(url) != "string" or not url:
        return None
    if not name or not version or not arch or name in _DOTS or version in _DOTS or arch in _DOTS:
        return None

    # lstrip of the usual characters leaves nothing: one native call for all three names.
    if (name + version + arch).lstrip(_NAME_CHARS):
        return None
    checksum = p.get("checksum")
    if checksum == None:
        checksum = ""
    if type(checksum) != "string":
        return None
    signature = _plain_section(p.get("signature"), "sha1-", False)
    control = _plain_section(p.get("control"), "sha1-", False)
    data = _plain_section(p.get("data"), "sha256-", True)
    if signature == None or control == None or data == None:
        return None
    if checksum:
        if not checksum.startswith("Q1"):
            return None
        if not control[1]:
            control = (control[0], "sha1-" + checksum[2:])
        elif checksum[2:] != control[1][len("sha1-"):]:
            return None
    if not control[1] and not data[1]:
        return None
    return _package_struct(name, version, arch, url, signature, control, data)

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
