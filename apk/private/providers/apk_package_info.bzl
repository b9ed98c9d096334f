"""ApkPackageInfo: one locked APK, verified against the lock and turned into a layer."""

DOC = """\
One package version for one architecture, from a lock. `parts` concatenate to the package
(the whole .apk, or its signature, control and data members); `layer` is its data member
as an OCI layer; `facts` is the JSON record of its .PKGINFO and checksums.
"""

FIELDS = {
    "package_name": "string: the package name.",
    "version": "string: the package version.",
    "arch": "string: the APK architecture (x86_64, aarch64, ...).",
    "url": "string: where the lock says the package comes from.",
    "parts": "list of File: the package bytes, in order.",
    "head_parts": "list of File: the parts holding the signature and control members.",
    "control_checksum": "string: the lock's control member checksum (sha1-...).",
    "data_checksum": "string: the lock's data member checksum (sha256-...).",
    "data_size": "int: the data member's size per the lock (0 when the lock has no range).",
    "layer": "OciLayerInfo: the data member as a layer.",
    "facts": "File: package facts JSON.",
}

ApkPackageInfo = provider(doc = DOC, fields = FIELDS)
