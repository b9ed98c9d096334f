"""Masking URL userinfo in messages, for apk/ and oci/ alike (loaded by both, so neither loads
the other for it).
"""

# Where a URL's authority ends in a message (as tools/internal/redact's authorityEnd).
_AUTHORITY_END = "/?#\"'` \t\r\n"

def _userinfo_end(rest):
    """Where the userinfo of the authority rest starts with ends (its "@"), or -1 if it has none."""
    end = len(rest)
    for j, c in enumerate(rest.elems()):
        if c in _AUTHORITY_END:
            end = j
            break
    return rest[:end].rfind("@")

def redact(text):
    """Masks the userinfo of every URL in a message, as wharf's redact.Text does.

    `https://user:password@host/x` becomes `https://user:***@host/x`; a user name alone (often
    a token) is masked whole, `https://***@host/x`.

    Args:
      text: a message that may quote URLs.

    Returns:
      text with every `scheme://userinfo@` masked.
    """
    out = []
    rest = text

    # Starlark has no while: at most one URL per character.
    for _ in range(len(text)):
        i = rest.find("://")
        if i < 0:
            break
        out.append(rest[:i + 3])
        rest = rest[i + 3:]
        at = _userinfo_end(rest)
        if at < 0:
            continue
        user, colon, _ = rest[:at].partition(":")
        out.append(user + ":***" if colon else "***")
        rest = rest[at:]
    out.append(rest)
    return "".join(out)

def redact_location(loc):
    """Masks the userinfo of a lock's location: a URL, or a name without scheme (`user:password@host/path`, as apko names repositories and keys).

    Args:
      loc: a URL or a lock entry's name.

    Returns:
      loc with its userinfo masked.
    """
    if "://" in loc:
        return redact(loc)
    return redact("://" + loc)[len("://"):]

def without_userinfo(url):
    """A URL without its `user:password@`, for what an image records (the SBOM's download location).

    Args:
      url: a lock's package URL.

    Returns:
      url without userinfo; url as it is when it has none.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    at = _userinfo_end(rest)
    if at < 0:
        return url
    return scheme + sep + rest[at + 1:]
