"""Unit tests of the lock parser: every shape apko writes is read, every rejected lock says why.

Each error case shows the whole message a user reads (translate_lock fails with it).
"""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//apk/private:lock.bzl", "decode_lock", "percent_decode", "redact", "redact_location", "repository_line", "without_userinfo")

_LOCK = "//app:apko.lock.json"

def _pkg(**kw):
    p = {
        "name": "glibc",
        "url": "https://packages.wolfi.dev/os/x86_64/glibc-2.40-r1.apk",
        "version": "2.40-r1",
        "architecture": "x86_64",
        "signature": {"range": "", "checksum": ""},
        "control": {"range": "bytes=0-99", "checksum": "sha1-" + "A" * 27 + "="},
        "data": {"range": "bytes=100-999", "checksum": "sha256-" + "B" * 43 + "="},
        "checksum": "Q1" + "A" * 27 + "=",
    }
    for k, v in kw.items():
        if v == None:
            p.pop(k)
        else:
            p[k] = v
    return p

def _lock(packages = None, **contents):
    c = {
        "keyring": [{"name": "packages.wolfi.dev/os/wolfi-signing.rsa.pub", "url": "https://packages.wolfi.dev/os/wolfi-signing.rsa.pub"}],
        "build_repositories": [],
        "runtime_repositories": [],
        "repositories": [{"name": "packages.wolfi.dev/os/x86_64", "url": "https://packages.wolfi.dev/os/x86_64/APKINDEX.tar.gz", "architecture": "x86_64"}],
        "packages": [_pkg()] if packages == None else packages,
    }
    c.update(contents)
    return {"version": "v1", "config": {"name": "apko.yaml", "checksum": "sha256-x"}, "contents": c}

def _decode(v):
    return decode_lock(v if type(v) == "string" else json.encode(v), _LOCK)

# (lock, the whole message)
def _error_cases():
    sec = "lock //app:apko.lock.json: package glibc (packages[0]): "
    return [
        ("", "lock //app:apko.lock.json: the file is empty"),
        ("{", "lock //app:apko.lock.json: not valid JSON"),
        ("[]", "lock //app:apko.lock.json: the top level must be an object, got a list"),
        ({"version": "v1", "contents": {}, "extra": 1}, "lock //app:apko.lock.json: top level: unknown field \"extra\" (apko writes: version, config, contents)"),
        ({"version": "v2", "contents": {}}, "lock //app:apko.lock.json: unsupported lock version \"v2\" (this rules_wharf reads v1)"),
        ({"version": 1, "contents": {}}, "lock //app:apko.lock.json: top level: \"version\" must be a string, got a number"),
        ({"config": [], "contents": {}}, "lock //app:apko.lock.json: config must be an object, got a list"),
        ({"config": {"nam": "x"}, "contents": {}}, "lock //app:apko.lock.json: config: unknown field \"nam\" (apko writes: name, checksum)"),
        ({"config": {"checksum": 5}, "contents": {}}, "lock //app:apko.lock.json: config: \"checksum\" must be a string, got a number"),
        ({"version": "v1"}, "lock //app:apko.lock.json: has no contents object"),
        ({"contents": "x"}, "lock //app:apko.lock.json: contents must be an object, got a string"),
        ({"contents": {"pakages": []}}, "lock //app:apko.lock.json: contents: unknown field \"pakages\" (apko writes: keyring, build_repositories, runtime_repositories, repositories, packages, archs)"),
        (_lock(keyring = {}), "lock //app:apko.lock.json: contents: \"keyring\" must be a list, got an object"),
        (_lock(keyring = ["k"]), "lock //app:apko.lock.json: keyring[0] must be an object, got a string"),
        (_lock(keyring = [{"name": "k", "sha": "x"}]), "lock //app:apko.lock.json: keyring[0]: unknown field \"sha\" (apko writes: name, url, content)"),
        (_lock(keyring = [{"name": "k.rsa.pub"}]), "lock //app:apko.lock.json: keyring[0] (k.rsa.pub) has neither url nor content"),
        (_lock(keyring = [{"name": 1, "url": "x"}]), "lock //app:apko.lock.json: keyring[0]: \"name\" must be a string, got a number"),
        (_lock(keyring = [{"name": "a", "url": "https://a/k.rsa.pub"}, {"name": "b", "url": "https://b/k.rsa.pub"}]), "lock //app:apko.lock.json: keyring[1] (b): another entry, https://a/k.rsa.pub, is also named k.rsa.pub: signatures could not tell them apart"),
        # A lock with credentials (apko writes them as the configuration gave them): masked.
        (_lock(keyring = [{"name": "alice:s3cr3t-TOKEN-5@a/k.rsa.pub", "url": "https://alice:s3cr3t-TOKEN-5@a/k.rsa.pub"}, {"name": "b", "url": "https://b/k.rsa.pub"}]), "lock //app:apko.lock.json: keyring[1] (b): another entry, https://alice:***@a/k.rsa.pub, is also named k.rsa.pub: signatures could not tell them apart"),
        (_lock(keyring = [{"name": "s3cr3t-TOKEN-5@h/k.rsa.pub"}]), "lock //app:apko.lock.json: keyring[0] (***@h/k.rsa.pub) has neither url nor content"),
        (_lock(repositories = [{"name": "alice:s3cr3t-TOKEN-5@r/x86_64", "architecture": ["x86_64"]}]), "lock //app:apko.lock.json: repositories[0] (alice:***@r/x86_64): \"architecture\" must be a string, got a list"),
        (_lock(keyring = [{"name": "x", "url": "https://a/.."}]), "lock //app:apko.lock.json: keyring[0] (x) has no usable key file name"),
        (_lock(repositories = 3), "lock //app:apko.lock.json: contents: \"repositories\" must be a list, got a number"),
        (_lock(runtime_repositories = [None]), "lock //app:apko.lock.json: runtime_repositories[0] must be an object, got null"),
        (_lock(repositories = [{"url": "https://x/APKINDEX.tar.gz"}]), "lock //app:apko.lock.json: repositories[0] has no \"name\""),
        (_lock(build_repositories = [{"name": "r", "arch": "x86_64"}]), "lock //app:apko.lock.json: build_repositories[0]: unknown field \"arch\" (apko writes: name, url, architecture)"),
        (_lock(repositories = [{"name": "r", "architecture": ["x86_64"]}]), "lock //app:apko.lock.json: repositories[0] (r): \"architecture\" must be a string, got a list"),
        (_lock(packages = {}), "lock //app:apko.lock.json: contents: \"packages\" must be a list, got an object"),
        (_lock(packages = [1]), "lock //app:apko.lock.json: packages[0] must be an object, got a number"),
        (_lock(packages = [_pkg(size = 5)]), sec + "unknown field \"size\" (apko writes: name, url, version, architecture, signature, control, data, checksum)"),
        (_lock(packages = [_pkg(name = None)]), "lock //app:apko.lock.json: packages[0] has no \"name\""),
        (_lock(packages = [_pkg(version = None)]), sec[:-2] + " has no \"version\""),
        (_lock(packages = [_pkg(architecture = "")]), sec + "\"architecture\" is empty"),
        (_lock(packages = [_pkg(url = 7)]), sec + "\"url\" must be a string, got a number"),
        (_lock(packages = [_pkg(control = "bytes=0-1")]), sec + "control must be an object, got a string"),
        (_lock(packages = [_pkg(data = {"range": "bytes=1-2", "checksum": "sha256-x", "size": 1})]), sec + "data: unknown field \"size\" (apko writes: range, checksum)"),
        (_lock(packages = [_pkg(control = {"range": 0, "checksum": "sha1-x"})]), sec + "control: \"range\" must be a string, got a number"),
        (_lock(packages = [_pkg(control = {"range": "0-99", "checksum": "sha1-x"})]), sec + "control: range \"0-99\" does not start with bytes="),
        (_lock(packages = [_pkg(control = {"range": "bytes=99-0", "checksum": "sha1-x"})]), sec + "control: malformed range \"bytes=99-0\" (want bytes=FIRST-LAST)"),
        (_lock(packages = [_pkg(signature = {"range": "bytes=0-", "checksum": "sha1-x"})]), sec + "signature: malformed range \"bytes=0-\" (want bytes=FIRST-LAST)"),
        (_lock(packages = [_pkg(control = {"range": "bytes=0-9", "checksum": "md5-x"})]), sec + "control: checksum \"md5-x\" is not sha1-…"),
        (_lock(packages = [_pkg(data = {"range": "bytes=0-9", "checksum": "sha1-x"})]), sec + "data: checksum \"sha1-x\" is not sha256-…"),
        (_lock(packages = [_pkg(data = {"range": "bytes=0-9", "checksum": ""})]), sec + "data: has a range but no checksum: nothing would pin those bytes"),
        (_lock(packages = [_pkg(checksum = "sha1-x")]), sec + "checksum \"sha1-x\" is not Q1…"),
        (_lock(packages = [_pkg(checksum = "Q1" + "C" * 27 + "=")]), sec + "checksum \"Q1CCCCCCCCCCCCCCCCCCCCCCCCCCC=\" and control checksum \"sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=\" disagree: they are the same sha1 of the control member"),
        (_lock(packages = [_pkg(checksum = None, control = None, data = None)]), sec + "no control or data checksum: nothing would pin this package"),
        (_lock(packages = [_pkg(), _pkg(version = "2.41-r0")]), "lock //app:apko.lock.json: package glibc (packages[1]): glibc for x86_64 is listed twice (first as packages[0])"),
        (_lock(packages = [_pkg(name = "../../evil")]), "lock //app:apko.lock.json: package ../../evil (packages[0]): name \"../../evil\" is not usable: it contains a path separator"),
        (_lock(packages = [_pkg(name = "..")]), "lock //app:apko.lock.json: package .. (packages[0]): name \"..\" is not usable: it is a relative directory name"),
        (_lock(packages = [_pkg(version = "2.40 r0")]), sec + "version \"2.40 r0\" is not usable: it contains a space or control character"),
        (_lock(packages = [_pkg(architecture = "x86_64\n")]), sec + "architecture \"x86_64\\n\" is not usable: it contains a space or control character"),
        (_lock(archs = "x86_64"), "lock //app:apko.lock.json: contents: \"archs\" must be a list, got a string"),
        (_lock(archs = [""]), "lock //app:apko.lock.json: contents: archs[0] is empty"),
    ]

def _errors_impl(ctx):
    env = unittest.begin(ctx)
    for lock, want in _error_cases():
        got, err = _decode(lock)
        asserts.equals(env, want, err)
        asserts.equals(env, None, got)
    return unittest.end(env)

errors_test = unittest.make(_errors_impl)

def _shapes_impl(ctx):
    env = unittest.begin(ctx)

    # Today's apko (v0.30): an unsigned package's signature section is empty.
    lock, err = _decode(_lock())
    asserts.equals(env, None, err)
    p = lock.packages[0]
    asserts.equals(env, ("glibc", "2.40-r1", "x86_64", "", ""), (p.name, p.version, p.arch, p.signature_range, p.signature_checksum))
    asserts.equals(env, {"x86_64": ["https://packages.wolfi.dev/os"]}, lock.repositories)
    asserts.equals(env, ["x86_64"], lock.archs)
    asserts.equals(env, "wolfi-signing.rsa.pub", lock.keyring[0].key_name)

    # Before apko 0.13 (`apko resolve`): no config, no checksum, no build repositories; the
    # control checksum alone pins the package. apko 0.13-0.16 wrote the data range's end
    # from the installed size, which may lie before its start.
    old = _lock(packages = [_pkg(checksum = None, data = {"range": "bytes=100-42", "checksum": "sha256-x"})])
    old.pop("config")
    old["contents"].pop("build_repositories")
    old["contents"].pop("runtime_repositories")
    lock, err = _decode(old)
    asserts.equals(env, None, err)
    asserts.equals(env, "sha1-" + "A" * 27 + "=", lock.packages[0].control_checksum)

    # The package checksum alone pins the control member.
    lock, err = _decode(_lock(packages = [_pkg(control = None)]))
    asserts.equals(env, None, err)
    asserts.equals(env, "sha1-" + "A" * 27 + "=", lock.packages[0].control_checksum)

    # Null lists, version absent, embedded keys (apko 1.2.24+), Alpine's escaped key URLs.
    lock, err = _decode({"contents": {"keyring": [
        {"name": "alpinelinux.org/keys/alpine-devel%40lists.alpinelinux.org-6165ee59.rsa.pub", "url": "https://alpinelinux.org/keys/alpine-devel%40lists.alpinelinux.org-6165ee59.rsa.pub"},
        {"name": "melange.rsa.pub", "url": "", "content": "-----BEGIN PUBLIC KEY-----\n"},
    ], "repositories": None, "packages": None}})
    asserts.equals(env, None, err)
    asserts.equals(env, ["alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", "melange.rsa.pub"], [k.key_name for k in lock.keyring])
    asserts.equals(env, "https://alpinelinux.org/keys/alpine-devel%40lists.alpinelinux.org-6165ee59.rsa.pub", lock.keyring[0].url)
    asserts.equals(env, ([], []), (lock.packages, lock.archs))

    # A lock with no packages keeps the architectures it names.
    lock, err = _decode(_lock(packages = [], archs = ["aarch64"]))
    asserts.equals(env, None, err)
    asserts.equals(env, ["aarch64", "x86_64"], lock.archs)

    # Repositories: runtime-only ones are in the image, build-only ones not; sorted, once.
    lock, err = _decode(_lock(
        repositories = [
            {"name": "packages.wolfi.dev/os/x86_64", "url": "https://packages.wolfi.dev/os/x86_64/APKINDEX.tar.gz", "architecture": "x86_64"},
            {"name": "apk.example.com/extra/x86_64", "url": "http://apk.example.com/extra/x86_64/APKINDEX.tar.gz", "architecture": "x86_64"},
        ],
        runtime_repositories = [{"name": "packages.wolfi.dev/os/x86_64", "url": "https://packages.wolfi.dev/os/x86_64/APKINDEX.tar.gz", "architecture": "x86_64"}],
        build_repositories = [{"name": "build.example.com/x86_64", "url": "https://build.example.com/x86_64/APKINDEX.tar.gz", "architecture": "x86_64"}],
    ))
    asserts.equals(env, None, err)
    asserts.equals(env, {"x86_64": ["http://apk.example.com/extra", "https://packages.wolfi.dev/os"]}, lock.repositories)
    return unittest.end(env)

shapes_test = unittest.make(_shapes_impl)

def _helpers_impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", percent_decode("alpine-devel%40lists.alpinelinux.org-6165ee59.rsa.pub"))
    asserts.equals(env, "a b~%", percent_decode("a%20b%7e%25"))
    asserts.equals(env, "100%", percent_decode("100%"))
    asserts.equals(env, "%4", percent_decode("%4"))
    asserts.equals(env, "%zz%C3%A9", percent_decode("%zz%C3%A9"))  # not ASCII: left escaped

    # Userinfo masked as wharf's redact.Text masks it; stripped from what an image records.
    asserts.equals(env, "GET https://alice:***@h/x (and http://***@g:8/y): 401", redact("GET https://alice:s3cr3t-TOKEN-5@h/x (and http://s3cr3t-TOKEN-5@g:8/y): 401"))
    asserts.equals(env, "file:///a@b/c https://h/p@q", redact("file:///a@b/c https://h/p@q"))
    asserts.equals(env, "alice:***@h/main/x86_64", redact_location("alice:s3cr3t-TOKEN-5@h/main/x86_64"))
    asserts.equals(env, "./keys/a@b.rsa.pub", redact_location("./keys/a@b.rsa.pub"))
    asserts.equals(env, "https://h/main/x86_64/a-1.apk", without_userinfo("https://alice:s3cr3t-TOKEN-5@h/main/x86_64/a-1.apk"))
    asserts.equals(env, "https://h/p@q", without_userinfo("https://h/p@q"))
    asserts.equals(env, "./main/x86_64/a-1.apk", without_userinfo("./main/x86_64/a-1.apk"))

    # apko >= 0.17: name without scheme, per arch; url the index.
    asserts.equals(env, "https://packages.wolfi.dev/os", repository_line("packages.wolfi.dev/os/x86_64", "https://packages.wolfi.dev/os/x86_64/APKINDEX.tar.gz", "x86_64"))

    # Local repositories stay paths.
    asserts.equals(env, "./testdata/packages", repository_line("./testdata/packages/aarch64", "./testdata/packages/aarch64/APKINDEX.tar.gz", "aarch64"))

    # apko 0.13-0.16 kept a tag in both name and url.
    asserts.equals(env, "@local https://apk.example.com/repo", repository_line("@local https://apk.example.com/repo/x86_64", "@local https://apk.example.com/repo/x86_64/APKINDEX.tar.gz", "x86_64"))

    # A tag in the name only.
    asserts.equals(env, "@local https://apk.example.com/repo", repository_line("@local apk.example.com/repo/x86_64", "https://apk.example.com/repo/x86_64/APKINDEX.tar.gz", "x86_64"))

    # No url (hand-written locks): the name.
    asserts.equals(env, "https://apk.example.com/repo", repository_line("https://apk.example.com/repo/x86_64", "", "x86_64"))

    # Credentials apko wrote into the lock stay out of the image.
    asserts.equals(env, "https://apk.example.com/repo", repository_line("alice:s3cr3t@apk.example.com/repo/x86_64", "https://alice:s3cr3t@apk.example.com/repo/x86_64/APKINDEX.tar.gz", "x86_64"))
    return unittest.end(env)

helpers_test = unittest.make(_helpers_impl)
