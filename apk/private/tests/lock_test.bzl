"""Unit tests of the lock parser: every shape apko writes is read, every rejected lock says why.

The cases are the corpus tools/internal/apk/lockfile's Go parser runs too (lock_corpus/cases.json;
cases.bzl is the same JSON for Starlark): each error case has the whole message a user reads
(translate_lock fails with it), each shape what the parser gives.
"""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//apk/private:lock.bzl", "decode_lock", "package_record", "percent_decode", "repository_line")
load("//apk/private/tests/lock_corpus:cases.bzl", "LOCK_CASES")
load("//private:redact.bzl", "redact", "redact_location", "without_userinfo")

_LOCK = "//app:apko.lock.json"

def _text(case):
    return case["text"] if "text" in case else json.encode(case["lock"])

def _errors_impl(ctx):
    env = unittest.begin(ctx)
    for case in [c for c in LOCK_CASES if "error" in c]:
        got, err = decode_lock(_text(case), _LOCK)
        asserts.equals(env, "lock {}: {}".format(_LOCK, case["error"]), err, case["name"])
        asserts.equals(env, None, got, case["name"])
    return unittest.end(env)

errors_test = unittest.make(_errors_impl)

def _parsed(lock):
    """decode_lock's lock as the corpus writes it (tools/internal/apk/lockfile's corpus_test view)."""
    return {
        "keyring": [{"key_name": k.key_name, "url": k.url, "content": k.content} for k in lock.keyring],
        "packages": [package_record(p) for p in lock.packages],
        "repositories": lock.repositories,
        "archs": lock.archs,
    }

def _shapes_impl(ctx):
    env = unittest.begin(ctx)
    for case in [c for c in LOCK_CASES if "want" in c]:
        lock, err = decode_lock(_text(case), _LOCK)
        asserts.equals(env, None, err, case["name"])
        if lock:
            asserts.equals(env, case["want"], _parsed(lock), case["name"])
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
