"""One lock's repositories, for the bzlmod extension and the WORKSPACE rule alike."""

load("//apk/private:lock.bzl", "package_record", "parse_lock", "resolve_relative")
load("//private:redact.bzl", "redact")

_REPO_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

def _safe(s):
    # Most names are safe as they are: one native call (every package of every lock is named
    # again whenever a lock changes) instead of a loop over the characters.
    if not s.lstrip(_REPO_CHARS):
        return s
    return "".join([c if (c.isalnum() or c in "._-") else "_" for c in s.elems()])

def _checksum_tag(checksum):
    # sha256-<base64>: keep enough of it to name the content, in repository-name characters.
    b64 = checksum.partition("-")[2].rstrip("=")
    return b64.replace("+", "P").replace("/", "S")[:16]

def _arch_prefix(arch):
    # Every package repository name starts so: a content's and its package's alike.
    return "apk_{}_".format(_safe(arch))

def _repo_root(lock, lock_path):
    """The directory of the lock's repository, from the lock's label and path."""
    root = lock_path[:len(lock_path) - len(lock.name)].rstrip("/")
    if lock.package:
        root = root[:len(root) - len(lock.package)].rstrip("/")
    return root

def _local_label(ctx, lock, root, relpath, what, is_package):
    path = resolve_relative(lock.package, relpath)
    if path == None:
        fail("lock {}: {} points outside its repository: {}".format(lock, what, relpath))

    # The label of a file is relative to its nearest enclosing package. is_package remembers
    # the directories looked at: a lock's packages mostly share one.
    parts = path.split("/")
    for i in range(len(parts) - 1, -1, -1):
        pkg = "/".join(parts[:i])
        if pkg not in is_package:
            d = root + ("/" + pkg if pkg else "")
            is_package[pkg] = ctx.path(d + "/BUILD.bazel").exists or ctx.path(d + "/BUILD").exists
        if is_package[pkg]:
            return Label("@@{}//{}:{}".format(lock.repo_name, pkg, "/".join(parts[i:])))
    fail("lock {}: {}: no package contains {}".format(lock, what, path))

def package_groups(packages):
    """Groups the package repositories of every lock by package and architecture (bzlmod only).

    Every repository a module extension makes sees all the others, so a change to the set of
    repository names changes every package repository's mapping and Bazel loads them all
    again. Named by package and architecture, with each locked content in a package of its
    own inside, the set stays the same when a lock changes a package's version or content,
    even while another lock still pins the old one: only that repository is fetched again.

    Args:
      packages: content-named repository -> `apk_import` arguments, of every lock.

    Returns:
      A dict from content-named repository to struct(repo, dir): the repository
      (`apk_<arch>_<name>`) and the package directory in it (the content name without
      `apk_<arch>_`: name, version, checksum). Package names that map to the same
      repository characters share a repository; their directories differ.
    """
    placed = {}
    prefixes = {}
    for content, kw in packages.items():
        if kw["arch"] not in prefixes:
            prefixes[kw["arch"]] = _arch_prefix(kw["arch"])
        prefix = prefixes[kw["arch"]]
        placed[content] = struct(repo = prefix + _safe(kw["package_name"]), dir = content.removeprefix(prefix))
    return placed

def translate_lock(ctx, lock_label, distro, require_signatures):
    """Reads one apko lock and says which repositories it needs.

    Args:
      ctx: a module_ctx or repository_ctx (for `path` and `read`).
      lock_label: the lock's Label.
      distro: translate_lock's `distro`.
      require_signatures: translate_lock's `require_signatures`.

    Returns:
      struct(packages, keys, hub): repository name to `apk_import` arguments (named by
      content: every lock in the build that pins a package shares its repository), the same
      for `apk_keyring`, and the `apk_hub` arguments but its names.
    """

    # One path() of the lock: each one of a label makes Bazel hash the file again.
    lock_path = ctx.path(lock_label)
    root = _repo_root(lock_label, str(lock_path))
    lock = parse_lock(ctx.read(lock_path), str(lock_label))
    is_package = {}
    keys = {}
    key_labels = []
    for k in lock.keyring:
        kw = {"key_name": k.key_name}
        if k.content:
            kw["content"] = k.content
            identity = k.content
        elif k.url.startswith("http://"):
            fail("lock {}: keyring entry {}: Bazel downloads plain http:// only with a checksum, which locks do not record for keys; serve it over https:// or give a path".format(lock_label, redact(k.url)))
        elif k.url.startswith("https://") or k.url.startswith("file://"):
            kw["url"] = k.url
            identity = k.url
        else:
            kw["source"] = _local_label(ctx, lock_label, root, k.url, "keyring entry " + k.key_name, is_package)
            identity = str(kw["source"])
        repo = "apk_key_{}_{}".format(_safe(k.key_name), "%x" % (hash(identity) & 0xffffffff))
        keys[repo] = kw
        key_labels.append("@{}//:key".format(repo))
    packages = {}
    by_arch = {}
    prefixes = {}
    for p in lock.packages:
        kw = package_record(p)
        if p.url.startswith("http://") and not (p.control_range and p.data_range and p.control_checksum and p.data_checksum):
            # Without member ranges the whole file is downloaded, and no lock pins it.
            fail("lock {}: package {}-{} ({}): Bazel downloads plain http:// only with a checksum, and this entry has no control and data ranges with checksums to download the package by (apko before 0.13 wrote none); serve it over https://, give a path, or lock it again: {}".format(lock_label, p.package_name, p.version, p.arch, redact(p.url)))
        if not (p.url.startswith("http://") or p.url.startswith("https://") or p.url.startswith("file://")):
            kw["source"] = _local_label(ctx, lock_label, root, p.url, "package {}-{} ({})".format(p.package_name, p.version, p.arch), is_package)
        if p.arch not in prefixes:
            prefixes[p.arch] = _arch_prefix(p.arch)

        # _safe maps each character alone: name and version made safe together, one call.
        repo = "{}{}_{}".format(prefixes[p.arch], _safe("{}_{}".format(p.package_name, p.version)), _checksum_tag(p.data_checksum or p.control_checksum))
        packages.setdefault(repo, kw)
        by_arch.setdefault(p.arch, []).append("@{}//:pkg".format(repo))
    return struct(
        packages = packages,
        keys = keys,
        hub = {
            "lock": str(lock_label),
            "lock_file": lock_label,
            "packages": by_arch,
            "archs": lock.archs,
            "keyring": key_labels,
            "repositories": lock.repositories,
            "distro": distro,
            "require_signatures": require_signatures,
        },
    )
