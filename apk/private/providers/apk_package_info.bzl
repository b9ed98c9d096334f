"""ApkPackageInfo: one locked APK, verified against the lock and turned into a layer."""

load("//apk/private:lock.bzl", "APK_PACKAGE_RECORD_FIELDS", "PACKAGE_FIELDS")

DOC = """\
One package version for one architecture, from a lock. `parts` concatenate to the package
(the whole .apk, or its signature, control and data members); `layer` is its data member
as an OCI layer; `facts` is the JSON record of its .PKGINFO and checksums.
"""

# The lock's record (lock.bzl's PACKAGE_FIELDS) under its own names, then what the package
# became.
FIELDS = {f: PACKAGE_FIELDS[f] + " (string)" for f in APK_PACKAGE_RECORD_FIELDS} | {
    "parts": "list of File: the package bytes, in order.",
    "head_parts": "list of File: the parts holding the signature and control members.",
    "data_size": "int: the data member's size per the lock (0 when the lock has no range).",
    "origin": "string: .PKGINFO's origin (empty: unknown).",
    "installed_size": "int: .PKGINFO's size.",
    "replaces": "list of string: .PKGINFO's replaces.",
    "layer": "OciLayerInfo: the data member as a layer.",
    "facts": "File: package facts JSON.",
}

ApkPackageInfo = provider(doc = DOC, fields = FIELDS)
