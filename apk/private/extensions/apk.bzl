"""The `apk` module extension: apko lock files into Bazel repositories."""

load("//apk/private:lock.bzl", "parse_lock", "resolve_relative")
load("//apk/private/repository_rules:apk_import.bzl", "apk_hub", "apk_import", "apk_keyring")

def _safe(s):
    out = ""
    for c in s.elems():
        out += c if (c.isalnum() or c in "._-") else "_"
    return out

def _checksum_tag(checksum):
    # sha256-<base64>: keep enough of it to name the content, in repository-name characters.
    b64 = checksum.partition("-")[2].rstrip("=")
    return b64.replace("+", "P").replace("/", "S")[:16]

def _local_label(mctx, lock, relpath, what):
    path = resolve_relative(lock.package, relpath)
    if path == None:
        fail("lock {}: {} points outside its repository: {}".format(lock, what, relpath))

    # The label of a file is relative to its nearest enclosing package.
    lock_path = str(mctx.path(lock))
    root = lock_path[:len(lock_path) - len(lock.name)].rstrip("/")
    if lock.package:
        root = root[:len(root) - len(lock.package)].rstrip("/")
    parts = path.split("/")
    for i in range(len(parts) - 1, -1, -1):
        pkg = "/".join(parts[:i])
        d = root + ("/" + pkg if pkg else "")
        if mctx.path(d + "/BUILD.bazel").exists or mctx.path(d + "/BUILD").exists:
            return Label("@@{}//{}:{}".format(lock.repo_name, pkg, "/".join(parts[i:])))
    fail("lock {}: {}: no package contains {}".format(lock, what, path))

def _apk_impl(mctx):
    packages = {}  # repo name -> kwargs
    keys = {}
    hubs = {}
    for mod in mctx.modules:
        for tag in mod.tags.translate_lock:
            if tag.name in hubs:
                fail("translate_lock: two locks are named {} ({} and {})".format(tag.name, hubs[tag.name]["lock"], tag.lock))
            lock = parse_lock(mctx.read(mctx.path(tag.lock)), str(tag.lock))
            key_labels = []
            for k in lock.keyring:
                kw = {"key_name": k.key_name}
                if k.content:
                    kw["content"] = k.content
                    identity = k.content
                elif k.url.startswith("http://"):
                    fail("lock {}: keyring entry {}: Bazel downloads plain http:// only with a checksum, which locks do not record for keys; serve it over https:// or give a path".format(tag.lock, k.url))
                elif k.url.startswith("https://") or k.url.startswith("file://"):
                    kw["url"] = k.url
                    identity = k.url
                else:
                    kw["source"] = _local_label(mctx, tag.lock, k.url, "keyring entry " + k.key_name)
                    identity = str(kw["source"])
                repo = "apk_key_{}_{}".format(_safe(k.key_name), "%x" % (hash(identity) & 0xffffffff))
                keys[repo] = kw
                key_labels.append("@{}//:key".format(repo))
            by_arch = {}
            for p in lock.packages:
                kw = {
                    "package_name": p.name,
                    "version": p.version,
                    "arch": p.arch,
                    "url": p.url,
                    "signature_range": p.signature_range,
                    "signature_checksum": p.signature_checksum,
                    "control_range": p.control_range,
                    "control_checksum": p.control_checksum,
                    "data_range": p.data_range,
                    "data_checksum": p.data_checksum,
                }
                if not (p.url.startswith("http://") or p.url.startswith("https://") or p.url.startswith("file://")):
                    kw["source"] = _local_label(mctx, tag.lock, p.url, "package {}-{} ({})".format(p.name, p.version, p.arch))

                # Named by content, so every lock in the build that pins this exact package
                # shares one repository and every action downstream of it.
                repo = "apk_{}_{}_{}_{}".format(_safe(p.arch), _safe(p.name), _safe(p.version), _checksum_tag(p.data_checksum or p.control_checksum))
                if repo not in packages:
                    packages[repo] = kw
                by_arch.setdefault(p.arch, []).append("@{}//:pkg".format(repo))
            hubs[tag.name] = {
                "lock": str(tag.lock),
                "packages": by_arch,
                "archs": lock.archs,
                "keyring": key_labels,
                "repositories": lock.repositories,
                "distro": tag.distro,
                "require_signatures": tag.require_signatures,
            }

    for repo, kw in packages.items():
        apk_import(name = repo, **kw)
    for repo, kw in keys.items():
        apk_keyring(name = repo, **kw)
    for name, h in hubs.items():
        apk_hub(name = name, hub_name = name, **h)
    return mctx.extension_metadata(reproducible = True)

_translate_lock = tag_class(
    doc = "Translate an apko lock file (`apko.lock.json`) into repositories: one per package version and architecture (shared by every lock that pins it), one per key, and a hub named `name` with a target per architecture and an alias selecting by target CPU.",
    attrs = {
        "name": attr.string(doc = "Name of the hub repository (bring it in with `use_repo`).", mandatory = True),
        "lock": attr.label(doc = "The apko lock file.", mandatory = True, allow_single_file = [".json"]),
        "distro": attr.string(doc = "Distribution named in the SBOM's package URLs (`pkg:apk/<distro>/<name>@<version>`). Empty (the default): the `ID` of the /etc/os-release the packages install, as syft reads it (`wolfi`, `alpine`, ...), or `alpine` when none does."),
        "require_signatures": attr.bool(doc = "Fail the build on unsigned packages, naming each, instead of trusting them through the lock's checksums (a lock entry with an empty `signature.range`: `apko lock` copied its control checksum from the signed APKINDEX). See docs/apk.md, the trust model."),
    },
)

apk = module_extension(
    implementation = _apk_impl,
    doc = "Brings APK packages pinned by apko lock files into the build.",
    tag_classes = {"translate_lock": _translate_lock},
)
