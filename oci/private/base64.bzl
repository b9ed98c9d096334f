"""Standard base64 decoding into byte values (Starlark has none built in)."""

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUES = {c: i for i, c in enumerate(_B64.elems())}

def b64decode_bytes(s, what):
    """Decodes standard base64 (whitespace ignored, padding optional) into byte values.

    Args:
      s: the base64 text.
      what: what to name in errors.

    Returns:
      (list of ints 0..255, error): error is None or the message.
    """
    for ws in [" ", "\n", "\r", "\t"]:
        s = s.replace(ws, "")
    s = s.rstrip("=")
    if len(s) % 4 == 1:
        return None, "{}: not base64 (length)".format(what)
    out = []
    bits = 0
    nbits = 0
    for c in s.elems():
        v = _B64_VALUES.get(c)
        if v == None:
            return None, "{}: not base64 ({} is not a base64 character)".format(what, repr(c))
        bits = (bits << 6) | v
        nbits += 6
        if nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xff)
            bits = bits & ((1 << nbits) - 1)
    return out, None
