"""ApkPackagesInfo: the packages of one lock for one architecture, in install order."""

DOC = """\
What a lock's hub repository provides per architecture: the packages in lock (install)
order and the records of their signature verification against the lock's keyring.
"""

FIELDS = {
    "arch": "string: the APK architecture.",
    "distro": "string: the distribution named in SBOM package URLs; empty: the ID of the os-release the packages install.",
    "packages": "list of ApkPackageInfo, in lock order.",
    "database": "OciLayerInfo: the layer that completes the installation: usr/lib/apk/db (installed, scripts.tar, triggers), /etc/apk (arch, keys, repositories, world), the base layout, and directory metadata as apk leaves it.",
    "lock": "struct(name, file) or None: the lock file (named by its label) the packages come from, which image provenance records by sha256.",
    "verifications": "depset of File: the signature verification record of the lock's packages for this architecture (one `apk-verify` action checks them all; one record per lock and architecture).",
}

ApkPackagesInfo = provider(doc = DOC, fields = FIELDS)
