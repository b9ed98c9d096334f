"""ECDSA P-256 signature verification in Starlark, for checking cosign signatures at fetch time.

oci.pull runs in the repository phase, where the wharf tool may not exist yet (it is built
from source by the build itself), so the check is written here. Starlark ints are arbitrary
precision; points use Jacobian coordinates, inverses are Fermat exponentiations, and the two
scalar multiplications share one double-and-add loop (Shamir's trick). Nothing here is
constant-time: it only ever sees public keys and public signatures.

The message hash is the payload's sha256, which Bazel's downloader has checked already: the
payload blob is downloaded by its digest.
"""

load(":base64.bzl", "b64decode_bytes")

# NIST P-256 (FIPS 186-4 D.1.2.3).
_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
_G = (
    0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
    0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5,
)

def _pow(b, e, m):
    # Square-and-multiply; every exponent here is below 2**256.
    r = 1
    b = b % m
    for i in range(255, -1, -1):
        r = r * r % m
        if (e >> i) & 1:
            r = r * b % m
    return r

def _inv(a, m):
    return _pow(a, m - 2, m)

def _double(pt):
    # dbl-2001-b for a = -3; Z = 0 is the point at infinity and stays so.
    x, y, z = pt
    delta = z * z % _P
    gamma = y * y % _P
    beta = x * gamma % _P
    alpha = 3 * (x - delta) * (x + delta) % _P
    x3 = (alpha * alpha - 8 * beta) % _P
    z3 = ((y + z) * (y + z) - gamma - delta) % _P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % _P
    return (x3, y3, z3)

def _add_affine(pt, q):
    # madd-2007-bl: Jacobian pt plus affine q, with the equal and opposite cases.
    x1, y1, z1 = pt
    if z1 == 0:
        return (q[0], q[1], 1)
    z1z1 = z1 * z1 % _P
    h = (q[0] * z1z1 - x1) % _P
    r = 2 * (q[1] * z1 * z1z1 - y1) % _P
    if h == 0:
        return _double(pt) if r == 0 else (1, 1, 0)
    hh = h * h % _P
    i = 4 * hh % _P
    j = h * i % _P
    v = x1 * i % _P
    x3 = (r * r - j - 2 * v) % _P
    y3 = (r * (v - x3) - 2 * y1 * j) % _P
    z3 = ((z1 + h) * (z1 + h) - z1z1 - hh) % _P
    return (x3, y3, z3)

def _to_affine(pt):
    x, y, z = pt
    if z == 0:
        return None
    zi = _inv(z, _P)
    zi2 = zi * zi % _P
    return (x * zi2 % _P, y * zi2 * zi % _P)

def on_curve(x, y):
    """Whether (x, y) is a point of P-256 (the point at infinity has no affine form).

    Args:
      x: the x coordinate.
      y: the y coordinate.

    Returns:
      True or False.
    """
    if x < 0 or x >= _P or y < 0 or y >= _P:
        return False
    return (y * y - (x * x * x - 3 * x + _B)) % _P == 0

def decompress(x, odd):
    """The P-256 point with this x whose y is odd or even, or None.

    Args:
      x: the x coordinate.
      odd: whether y is odd.

    Returns:
      (x, y) or None.
    """
    if x < 0 or x >= _P:
        return None
    c = (x * x * x - 3 * x + _B) % _P
    y = _pow(c, (_P + 1) // 4, _P)
    if y * y % _P != c:
        return None
    if (y & 1) != (1 if odd else 0):
        y = (_P - y) % _P
    return (x, y)

def p256_verify(pub, digest, r, s):
    """Verifies an ECDSA P-256 signature (r, s) of a SHA-256 digest.

    Args:
      pub: (x, y), a point on the curve (on_curve checked by the caller's parser).
      digest: the message's SHA-256 as an int.
      r: the signature's r.
      s: the signature's s.

    Returns:
      None if it verifies, else why not.
    """
    if r < 1 or r >= _N:
        return "r is out of range"
    if s < 1 or s >= _N:
        return "s is out of range"
    if not on_curve(pub[0], pub[1]):
        return "the public key is not a point on P-256"
    w = _inv(s, _N)
    u1 = digest * w % _N
    u2 = r * w % _N
    table = [None, _G, pub, _to_affine(_add_affine((_G[0], _G[1], 1), pub))]
    acc = (1, 1, 0)
    for i in range(255, -1, -1):
        acc = _double(acc)
        k = ((u1 >> i) & 1) | (((u2 >> i) & 1) << 1)
        if k and table[k] != None:
            acc = _add_affine(acc, table[k])
    pt = _to_affine(acc)
    if pt == None or pt[0] % _N != r:
        return "the signature does not match the key and payload"
    return None

def _der(b, pos, tag, what):
    """Reads one DER element of the given tag at pos: (content start, end, error)."""
    if pos + 2 > len(b):
        return 0, 0, "{}: truncated".format(what)
    if b[pos] != tag:
        return 0, 0, "{}: tag 0x{} where 0x{} was expected".format(what, _hex2(b[pos]), _hex2(tag))
    n = b[pos + 1]
    start = pos + 2
    if n >= 0x80:
        k = n - 0x80
        if k < 1 or k > 2 or start + k > len(b) or b[start] == 0:
            return 0, 0, "{}: bad length".format(what)
        n = 0
        for i in range(k):
            n = n * 256 + b[start + i]
        start += k
        if n < 0x80 or (k == 2 and n < 0x100):
            return 0, 0, "{}: length not in its shortest form".format(what)
    if start + n > len(b):
        return 0, 0, "{}: truncated".format(what)
    return start, start + n, None

def _hex2(v):
    return "0123456789abcdef"[v >> 4] + "0123456789abcdef"[v & 15]

def _int_of(b, start, end):
    v = 0
    for i in range(start, end):
        v = v * 256 + b[i]
    return v

def _der_uint(b, pos, what):
    """A DER INTEGER that must be positive, in its shortest form: (value, end, error)."""
    start, end, err = _der(b, pos, 0x02, what)
    if err:
        return 0, 0, err
    if end == start or b[start] >= 0x80:
        return 0, 0, "{}: not a positive integer".format(what)
    if end - start > 1 and b[start] == 0 and b[start + 1] < 0x80:
        return 0, 0, "{}: integer not in its shortest form".format(what)
    return _int_of(b, start, end), end, None

def parse_signature(b):
    """Parses an ASN.1 DER ECDSA signature, SEQUENCE { r INTEGER, s INTEGER }.

    Args:
      b: its bytes as ints.

    Returns:
      (r, s, error): error is None or why it is malformed.
    """
    start, end, err = _der(b, 0, 0x30, "signature")
    if not err and end != len(b):
        err = "signature: {} bytes after its end".format(len(b) - end)
    if err:
        return 0, 0, err
    r, pos, err = _der_uint(b, start, "signature's r")
    if err:
        return 0, 0, err
    s, pos, err = _der_uint(b, pos, "signature's s")
    if not err and pos != end:
        err = "signature: more than r and s"
    return r, s, err

# Algorithm and curve OIDs (DER content bytes, hex) of SubjectPublicKeyInfo.
_EC_PUBLIC_KEY = "2a8648ce3d0201"
_KEY_TYPES = {
    "2a864886f70d010101": "RSA",
    "2b6570": "Ed25519",
    "2b6571": "Ed448",
    "2a8648ce3d030107": "ECDSA P-256",
    "2b81040022": "ECDSA P-384",
    "2b81040023": "ECDSA P-521",
    "2b8104000a": "ECDSA secp256k1",
}

def _hex(b, start, end):
    return "".join([_hex2(b[i]) for i in range(start, end)])

def _key_type(b, pos):
    """The SubjectPublicKeyInfo's algorithm (and curve) as a name: (name, end of it, error)."""
    start, alg_end, err = _der(b, pos, 0x30, "public key algorithm")
    if err:
        return None, 0, err
    o_start, o_end, err = _der(b, start, 0x06, "public key algorithm")
    if err:
        return None, 0, err
    oid = _hex(b, o_start, o_end)
    if oid == _EC_PUBLIC_KEY:
        c_start, c_end, err = _der(b, o_end, 0x06, "public key curve")
        if err:
            return None, 0, err
        curve = _hex(b, c_start, c_end)
        return _KEY_TYPES.get(curve, "ECDSA on the curve of OID (hex) " + curve), alg_end, None
    return _KEY_TYPES.get(oid, "algorithm OID (hex) " + oid), alg_end, None

def parse_public_key(b):
    """Parses a DER SubjectPublicKeyInfo holding an ECDSA P-256 key.

    Args:
      b: its bytes as ints.

    Returns:
      (point (x, y), key type name, error): error is None, or why the key is malformed or
      not supported (then the key type names what it is, e.g. `RSA`).
    """
    start, end, err = _der(b, 0, 0x30, "public key")
    if not err and end != len(b):
        err = "public key: {} bytes after its end".format(len(b) - end)
    if err:
        return None, None, err
    kind, pos, err = _key_type(b, start)
    if err:
        return None, None, err
    if kind != "ECDSA P-256":
        return None, kind, "{} keys are not supported: ECDSA P-256 only (cosign generate-key-pair's keys)".format(kind)
    k_start, k_end, err = _der(b, pos, 0x03, "public key bits")
    if not err and k_end != end:
        err = "public key: data after the key bits"
    if err:
        return None, kind, err
    return _point(b, k_start, k_end), kind, None

def _point(b, start, end):
    # A BIT STRING with no unused bits holding SEC 1's uncompressed (04) or compressed form.
    n = end - start
    if n == 66 and b[start] == 0 and b[start + 1] == 4:
        x = _int_of(b, start + 2, start + 34)
        y = _int_of(b, start + 34, end)
        return (x, y) if on_curve(x, y) else None
    if n == 34 and b[start] == 0 and b[start + 1] in (2, 3):
        return decompress(_int_of(b, start + 2, end), b[start + 1] == 3)
    return None

_PEM_BEGIN = "-----BEGIN "

def parse_pem_keys(text, what):
    """Parses every PEM block of a file as an ECDSA P-256 public key.

    Args:
      text: the file's content.
      what: what to name in errors (the file).

    Returns:
      (list of (x, y), error): error is None, or the message naming the file, the block and
      what is wrong with it (e.g. an RSA key, a certificate, not a point on the curve).
    """
    keys = []
    blocks = text.split(_PEM_BEGIN)[1:]
    if not blocks:
        return None, "{}: no PEM block (-----BEGIN PUBLIC KEY-----); give the public key, e.g. cosign.pub from `cosign generate-key-pair`".format(what)
    for i, block in enumerate(blocks):
        where = "{}: PEM block {}".format(what, i + 1)
        label, _, rest = block.partition("-----")
        body, end, _ = rest.partition("-----END " + label + "-----")
        if not end:
            return None, "{} ({}): no matching -----END {}-----".format(where, label, label)
        if label != "PUBLIC KEY":
            return None, "{} is -----BEGIN {}-----, not -----BEGIN PUBLIC KEY-----: give the public key (`cosign public-key --key cosign.key`; of a certificate, `openssl x509 -pubkey -noout`)".format(where, label)
        der, err = b64decode_bytes(body, where)
        if err:
            return None, err
        pt, _, err = parse_public_key(der)
        if err:
            return None, "{}: {}".format(where, err)
        if pt == None:
            return None, "{}: the key is not a point on P-256".format(where)
        keys.append(pt)
    return keys, None
