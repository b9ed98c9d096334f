"""The platforms rules_wharf builds images for: one table, read by every rule that maps them.

Each entry ties together the spellings of one architecture:

- `name`: the `platform` target in //platforms (`@rules_wharf//platforms:linux_amd64`).
- `os`, `arch`, `variant`: the OCI platform (image config, index entries, `oci_pull`'s
  `platforms`; `variant` empty when the OCI spec names none).
- `apk_arch`: the APK architecture of its packages (locks, `apk_package`, /etc/apk/arch).
- `os_constraint`, `cpu_constraint`: the `@platforms` constraint values that select it.
"""

def _platform(arch, variant, apk_arch, cpu):
    return struct(
        name = "linux_" + arch,
        os = "linux",
        arch = arch,
        variant = variant,
        apk_arch = apk_arch,
        os_constraint = Label("@platforms//os:linux"),
        cpu_constraint = Label("@platforms//cpu:" + cpu),
    )

PLATFORMS = [
    _platform("amd64", "", "x86_64", "x86_64"),
    _platform("arm64", "v8", "aarch64", "aarch64"),
    _platform("arm", "v7", "armv7", "armv7"),
    _platform("ppc64le", "", "ppc64le", "ppc64le"),
    _platform("riscv64", "", "riscv64", "riscv64"),
    _platform("s390x", "", "s390x", "s390x"),
    _platform("386", "", "x86", "x86_32"),
]

def oci_platform_key(arch, variant):
    """How `oci_pull` names an OCI architecture: `arm/v7` for 32-bit ARM, else the bare arch.

    Args:
      arch: the OCI architecture.
      variant: the OCI variant (ignored unless arch is `arm`).

    Returns:
      The key of PLATFORMS_BY_OCI_ARCH.
    """
    return arch + ("/" + variant if arch == "arm" and variant else "")

# oci_platform_key -> entry of PLATFORMS.
PLATFORMS_BY_OCI_ARCH = {oci_platform_key(p.arch, p.variant): p for p in PLATFORMS}

# APK architecture -> entry of PLATFORMS.
PLATFORMS_BY_APK_ARCH = {p.apk_arch: p for p in PLATFORMS}

def _cpu_attr(p):
    return "_cpu_" + p.apk_arch

# Private attributes a rule needs for target_platform: one per CPU constraint of the table.
TARGET_PLATFORM_ATTRS = {
    _cpu_attr(p): attr.label(default = p.cpu_constraint)
    for p in PLATFORMS
}

def target_platform(ctx):
    """The entry of PLATFORMS for the target platform's CPU (the rule has TARGET_PLATFORM_ATTRS).

    Args:
      ctx: the rule context.

    Returns:
      An entry of PLATFORMS.
    """
    for p in PLATFORMS:
        if ctx.target_platform_has_constraint(getattr(ctx.attr, _cpu_attr(p))[platform_common.ConstraintValueInfo]):
            return p
    fail("{}: the target platform's CPU is not one rules_wharf knows an OCI architecture for".format(ctx.label))

# The operating systems a prebuilt wharf is released for, by Go's GOOS, and the `@platforms`
# constraint of each: the exec platforms the tool's downloaded binaries run on.
_EXEC_OS_CONSTRAINTS = {
    "darwin": Label("@platforms//os:osx"),
    "linux": Label("@platforms//os:linux"),
    "windows": Label("@platforms//os:windows"),
}

def exec_constraints(goos, goarch):
    """The constraint values of the exec platform a Go binary for GOOS/GOARCH runs on.

    Go's GOARCH names are the OCI architectures of PLATFORMS, so the CPU constraint comes
    from the same table as the images' (32-bit ARM, which needs a variant, is not one).

    Args:
      goos: Go's GOOS (linux, darwin, windows).
      goarch: Go's GOARCH (amd64, arm64, ...).

    Returns:
      A list of two constraint Labels, or None when the table has no such OS or CPU.
    """
    p = PLATFORMS_BY_OCI_ARCH.get(goarch)
    os = _EXEC_OS_CONSTRAINTS.get(goos)
    if not p or not os:
        return None
    return [os, p.cpu_constraint]
