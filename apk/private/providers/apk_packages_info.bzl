"""ApkPackagesInfo: the packages of one lock for one architecture, in install order."""

DOC = """\
What a lock's hub repository provides per architecture: the packages in lock (install)
order and the records of their signature verification against the lock's keyring.
"""

FIELDS = {
    "arch": "string: the APK architecture.",
    "packages": "list of ApkPackageInfo, in lock order.",
    "verifications": "depset of File: one signature verification record per package.",
}

ApkPackagesInfo = provider(doc = DOC, fields = FIELDS)
