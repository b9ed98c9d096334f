"""Repository rules behind translate_lock: one per package (WORKSPACE) or per package name (bzlmod), one per key, one hub per lock."""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "read_netrc", "read_user_netrc", "use_netrc")
load("//apk/private:grouping.bzl", "parse_pkginfo")
load("//apk/private:lock.bzl", "APK_PACKAGE_RECORD_FIELDS", "PACKAGE_FIELDS", "PACKAGE_REQUIRED")
load("//platforms:platforms.bzl", "PLATFORMS")
load("//private:redact.bzl", "redact", "without_userinfo")

_APK_PACKAGE_BZL = str(Label("//apk/private/rules:apk_package.bzl"))
_APK_PACKAGES_BZL = str(Label("//apk/private/rules:apk_packages.bzl"))

# APK architecture -> the @platforms CPU constraint that selects its packages in the hub.
_CPU_CONSTRAINTS = {p.apk_arch: str(p.cpu_constraint) for p in PLATFORMS}

def _bytes_kwargs():
    """rctx.file's arguments that write a string read by rctx.read back as its bytes.

    Bazel 7 encodes the chars as UTF-8 unless legacy_utf8 = False; Bazel 8 writes them as
    bytes and keeps the parameter as a no-op, which a later Bazel may drop: so it is given
    only to a Bazel older than 8 (or one that does not say its version, as a development
    build does not).
    """
    major = (getattr(native, "bazel_version", "") or "").partition(".")[0]
    if major.isdigit() and int(major) >= 8:
        return {}
    return {"legacy_utf8": False}

def _range_bounds(r):
    lo, _, hi = r[len("bytes="):].partition("-")
    return int(lo), int(hi)

def _range_size(r):
    if not r:
        return 0
    lo, hi = _range_bounds(r)
    return max(hi - lo + 1, 0)

def _is_remote(url):
    return url.startswith("https://") or url.startswith("http://")

def _auth(rctx, url):
    """Basic credentials for url from the netrc file, as http_archive takes them.

    $NETRC (which Bazel's read_user_netrc does not read), else ~/.netrc. Bazel's
    --credential_helper needs nothing here: the downloader adds its headers itself, ahead
    of these.
    """
    if not url.startswith("https://") and not url.startswith("http://"):
        return {}
    path = rctx.getenv("NETRC") if hasattr(rctx, "getenv") else rctx.os.environ.get("NETRC")
    if path and not rctx.path(path).exists:
        fail("$NETRC is {}, which does not exist".format(path))
    return use_netrc(read_netrc(rctx, path) if path else read_user_netrc(rctx), [url], {})

def _file_url(path):
    """A file:// URL for an absolute path ("/x" on Unix, "C:/x" on Windows)."""
    p = str(path)
    for c, esc in [("%", "%25"), (" ", "%20"), ("#", "%23"), ("?", "%3F")]:
        p = p.replace(c, esc)
    return "file://" + ("" if p.startswith("/") else "/") + p

def copy_local(rctx, label, output, block = True):
    """Copies a workspace file (a Label) into the repository; returns the download.

    A copy, not a symlink: the repository's marker records the file's label and content, not
    its absolute path, so a symlink dangles when another checkout at another path reuses the
    output base (CI's fixed --output_base) and Bazel sees no reason to fetch again. The
    downloader streams the copy, whatever the file's size.

    Args:
      rctx: the repository_ctx.
      label: the file's Label.
      output: its path in the repository.
      block: False to return a pending download (wait() on it).
    """
    return rctx.download(url = [_file_url(rctx.path(label))], output = output, block = block)

def _fetch_package(rctx, a, source, dir, pending):
    """Starts fetching one locked APK into dir: returns struct(a, out, parts, head) for _package_build_file.

    Downloads do not block: each is appended to pending, for fetch_packages to wait on once
    every download of its repository has started (a CDN's round trips then overlap, where
    one after another each member of each package paid its own).

    Args:
      rctx: the repository_ctx.
      a: the package's `apk_import` attributes (the rule's, or a struct of them).
      source: the local file (a Label) for a lock's relative path, else None.
      dir: the directory in the repository ("" for its root); part paths are relative to it.
      pending: the list the started downloads are appended to.
    """
    what = "package {}-{} ({}) from {}".format(a.package_name, a.version, a.arch, redact(a.url))
    auth = _auth(rctx, a.url)
    out = (dir + "/") if dir else ""
    head = []

    def download(output, member, pin = "", **kwargs):
        # A pinned member may fail: the downloader's warning gives the reason, the failure
        # names the package. An unpinned download fails with Bazel's own error (which says,
        # for example, that plain http:// needs a checksum).
        fault = None
        if pin:
            fault = ("{}: its {} could not be fetched as the lock pins it ({}): the server is unreachable, " +
                     "or has other bytes there (a package published again since the lock was made: refresh " +
                     "the lock); the warning above gives the reason").format(what, member, pin)
        pending.append(struct(fault = fault, download = rctx.download(
            url = [a.url],
            output = out + output,
            auth = auth,
            allow_fail = bool(pin),
            block = False,
            integrity = pin,
            **kwargs
        )))

    if source:
        pending.append(struct(fault = None, download = copy_local(rctx, source, out + "package.apk", block = False)))
        parts = ["package.apk"]
    elif _is_remote(a.url) and a.control_range and a.data_range and a.control_checksum and a.data_checksum:
        # Ranged downloads, each member checked by the downloader against the lock, so the
        # repository cache and a remote downloader can serve them by checksum. The data
        # member is the layer blob as is.
        if a.signature_range:
            # The lock pins the signature member too: re-signing a package makes the lock stale.
            download("signature.tar.gz", "signature member", a.signature_checksum, headers = {"Range": [a.signature_range]})
            head.append("signature.tar.gz")
        download("control.tar.gz", "control member", a.control_checksum, headers = {"Range": [a.control_range]})
        head.append("control.tar.gz")

        # The data member runs to the end of the file: ask for the rest, so that a lock whose
        # data range ends wrong (apko before 0.17 wrote the installed size there) still works.
        download("data.tar.gz", "data member", a.data_checksum, headers = {"Range": ["bytes={}-".format(_range_bounds(a.data_range)[0])]})
        parts = head + ["data.tar.gz"]
    elif _is_remote(a.url) or a.url.startswith("file://"):
        # No whole-file checksum exists in a lock: the build action verifies every member.
        download("package.apk", "package")
        parts = ["package.apk"]
    else:
        fail("{}: unsupported URL (want http(s)://, file:// or a path relative to the lock)".format(what))

    return struct(a = a, out = out, parts = parts, head = head)

def _read_pkginfo(rctx, f):
    """Origin, installed size and replaces from the fetched package's .PKGINFO.

    Origin layering groups packages by them when Bazel plans the layers, and a lock does not
    record them. Only the control member is extracted: the part fetched on its own, or the
    lock's control range cut from a whole .apk (read as bytes: one char per byte, written
    back as such), so a package's files never land in the repository. A whole .apk without
    ranges (old locks) is extracted entire, its gzip members read as one tar stream. All of
    it goes to a directory that is deleted again. The bytes are the ones the build verifies.
    """
    tmp = f.out + "_pkginfo"
    control = f.out + "control.tar.gz"
    if "control.tar.gz" not in f.parts:
        # Named by its type: extract() takes no type argument before Bazel 8.
        control = tmp + ".tar.gz"
        if f.a.control_range:
            lo, hi = _range_bounds(f.a.control_range)

            rctx.file(control, rctx.read(f.out + "package.apk")[lo:hi + 1], executable = False, **_bytes_kwargs())
        else:
            rctx.symlink(f.out + "package.apk", control)
    rctx.extract(control, output = tmp)
    if control != f.out + "control.tar.gz":
        rctx.delete(control)
    info = rctx.path(tmp + "/.PKGINFO")

    # None (not a package): no origin, which origin layering names; apk_package's action
    # refuses the package anyway.
    text = rctx.read(info) if info.exists else ""
    rctx.delete(tmp)
    return parse_pkginfo(text)

def _package_build_file(f, pkginfo):
    """The BUILD file of a fetched package: its apk_package, from the record, the parts and its .PKGINFO."""
    a = f.a
    kw = {k: getattr(a, k) for k in APK_PACKAGE_RECORD_FIELDS}

    # Recorded in the image's SBOM: never the credentials of a lock that holds them.
    kw["url"] = without_userinfo(a.url)
    kw.update(parts = f.parts, head_parts = f.head, data_size = _range_size(a.data_range))
    kw.update(origin = pkginfo.origin, installed_size = pkginfo.installed_size, replaces = pkginfo.replaces)
    return """\
# Generated by rules_wharf translate_lock. DO NOT EDIT.
load("{bzl}", "apk_package")

apk_package(
    name = "pkg",
{attrs}    visibility = ["//visibility:public"],
)
""".format(bzl = _APK_PACKAGE_BZL, attrs = "".join(["    {} = {},\n".format(k, repr(v)) for k, v in kw.items()]))

def fetch_packages(rctx, packages):
    """Fetches locked APKs into one repository: every download started, then each waited on.

    Args:
      rctx: the repository_ctx.
      packages: struct(attrs, source, dir) each: `apk_import`'s attributes (the rule's, or a
        struct of them), the local file (a Label) for a lock's relative path or None, and the
        directory in the repository ("" for its root).

    Returns:
      The BUILD file of each package's `apk_package` target, in order.
    """
    pending = []
    fetched = [_fetch_package(rctx, p.attrs, p.source, p.dir, pending) for p in packages]
    for p in pending:
        r = p.download

        # A download the repository cache answers may come back already done.
        if hasattr(r, "wait"):
            r = r.wait()
        if not r.success:
            fail(p.fault)
    return [_package_build_file(f, _read_pkginfo(rctx, f)) for f in fetched]

def _apk_import_impl(rctx):
    build = fetch_packages(rctx, [struct(attrs = rctx.attr, source = rctx.attr.source, dir = "")])[0]
    rctx.file("BUILD.bazel", build)

apk_import = repository_rule(
    implementation = _apk_import_impl,
    doc = "Fetches one locked APK: ranged, checksummed member downloads for http(s), the whole file otherwise.",
    attrs = dict(
        {f: attr.string(doc = doc, mandatory = f in PACKAGE_REQUIRED) for f, doc in PACKAGE_FIELDS.items()},
        source = attr.label(doc = "A local file (the lock's relative path, resolved).", allow_single_file = True),
    ),
)

def _apk_import_group_impl(rctx):
    rctx.file("BUILD.bazel", "# Generated by rules_wharf's apk extension: one package per locked content. DO NOT EDIT.\n")
    packages = []
    for dir, encoded in sorted(rctx.attr.packages.items()):
        # translate_lock's `apk_import` arguments, `source` as a label string.
        kw = json.decode(encoded)
        source = kw.pop("source", None)
        packages.append(struct(attrs = struct(**kw), source = Label(source) if source else None, dir = dir))
    for p, build in zip(packages, fetch_packages(rctx, packages)):
        rctx.file(p.dir + "/BUILD.bazel", build)

apk_import_group = repository_rule(
    implementation = _apk_import_group_impl,
    doc = "Fetches every locked content of one package and architecture that the build's locks pin, each in a package of its own (`//<dir>:pkg`), as `apk_import` does one.",
    attrs = {
        "packages": attr.string_dict(doc = "Package directory to the content's `apk_import` attributes, as JSON (`source`: a label string).", mandatory = True),
    },
)

def _apk_keyring_impl(rctx):
    a = rctx.attr
    if a.content:
        rctx.file(a.key_name, a.content)
    elif a.source:
        copy_local(rctx, a.source, a.key_name)
    elif _is_remote(a.url) or a.url.startswith("file://"):
        rctx.download(url = [a.url], output = a.key_name, auth = _auth(rctx, a.url))
    else:
        fail("keyring entry {}: unsupported URL {}".format(a.key_name, redact(a.url)))
    rctx.file("BUILD.bazel", """\
# Generated by rules_wharf translate_lock. DO NOT EDIT.
filegroup(
    name = "key",
    srcs = [{name}],
    visibility = ["//visibility:public"],
)
""".format(name = repr(a.key_name)))

apk_keyring = repository_rule(
    implementation = _apk_keyring_impl,
    doc = "One public key of a lock's keyring, stored under the name signatures refer to.",
    attrs = {
        "key_name": attr.string(doc = "File name of the key (as in `.SIGN.RSA.<name>`).", mandatory = True),
        "url": attr.string(doc = "The lock's URL for the key."),
        "source": attr.label(doc = "A local file (the lock's relative path, resolved).", allow_single_file = True),
        "content": attr.string(doc = "The PEM key embedded in the lock."),
    },
)

def hub_build_file(a):
    """The hub's BUILD file: one apk_packages per architecture and an alias by target CPU.

    Args:
      a: the hub's attributes (`apk_hub`'s, or a struct with the same fields).

    Returns:
      The BUILD file's content.
    """
    lines = [
        "# Generated by rules_wharf translate_lock from {}. DO NOT EDIT.".format(a.lock),
        'load("{}", "apk_packages")'.format(_APK_PACKAGES_BZL),
        "",
        "# The lock itself (a link to it), which image provenance records by sha256.",
        'exports_files(["apko.lock.json"])',
        "",
    ]

    # A lock with no packages is an empty package set (the image gets the apk database and
    # base layout only) for each architecture it names, or for every one when it names none.
    archs = sorted(a.packages.keys()) or sorted(a.archs) or sorted(_CPU_CONSTRAINTS.keys())
    select_arms = {}
    for arch in archs:
        lines.append("""\
apk_packages(
    name = {arch},
    arch = {arch},
    packages = {packages},
    keyring = {keyring},
    repositories = {repositories},
    distro = {distro},
    lock = {lock},
    lock_file = ":apko.lock.json",
    require_signatures = {require_signatures},
    visibility = ["//visibility:public"],
)
""".format(
            arch = repr(arch),
            packages = repr(a.packages.get(arch, [])),
            keyring = repr(a.keyring),
            repositories = repr(a.repositories.get(arch, [])),
            distro = repr(a.distro),
            lock = repr(a.lock),
            require_signatures = repr(a.require_signatures),
        ))
        if arch in _CPU_CONSTRAINTS:
            select_arms[_CPU_CONSTRAINTS[arch]] = ":" + arch
    if select_arms:
        actual = "select({}, no_match_error = {})".format(
            repr(select_arms),
            repr("lock {} has no packages for the target platform's CPU; it has: {}".format(a.lock, ", ".join(archs))),
        )
    else:
        actual = repr(":" + archs[0])
    lines.append("""\
alias(
    name = {name},
    actual = {actual},
    visibility = ["//visibility:public"],
)
""".format(name = repr(a.hub_name), actual = actual))
    return "\n".join(lines)

def copy_lock(rctx, lock):
    """Copies the lock into the hub as `apko.lock.json` (the hub's BUILD file names it).

    Args:
      rctx: the hub's repository_ctx.
      lock: the lock's Label.
    """
    copy_local(rctx, lock, "apko.lock.json")

def _apk_hub_impl(rctx):
    copy_lock(rctx, rctx.attr.lock_file)
    rctx.file("BUILD.bazel", hub_build_file(rctx.attr))

apk_hub = repository_rule(
    implementation = _apk_hub_impl,
    doc = "The repository named by translate_lock: one `apk_packages` target per architecture and an alias selecting by target CPU.",
    attrs = {
        "hub_name": attr.string(doc = "Name of the alias target (the repository's apparent name).", mandatory = True),
        "lock": attr.string(doc = "The lock file, for messages."),
        "lock_file": attr.label(doc = "The lock file, linked into the hub for image provenance.", allow_single_file = True),
        "packages": attr.string_list_dict(doc = "APK architecture to package labels, in lock order."),
        "archs": attr.string_list(doc = "Every architecture the lock names (its packages', repositories' and `archs`)."),
        "require_signatures": attr.bool(doc = "Fail on unsigned packages."),
        "keyring": attr.string_list(doc = "Key labels."),
        "repositories": attr.string_list_dict(doc = "APK architecture to /etc/apk/repositories lines."),
        "distro": attr.string(doc = "Distribution for SBOM package URLs; empty: from the installed /etc/os-release."),
    },
)
