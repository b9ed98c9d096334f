"""oci_structure_test: container-structure-test YAML and policy rules as a hermetic Bazel test."""

load("//oci/private/actions:structure_test.bzl", "NO_SHELL_PACKAGES", "NO_SHELL_PATHS", "emit_structure_test")
load("//oci/private/providers:oci_image_info.bzl", "OciImageInfo")
load("//oci/private/providers:oci_index_info.bzl", "OciIndexInfo")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")
load(":fetch_base_layers.bzl", "FETCH_BASE_LAYERS_ATTRS", "image_attr", "image_target")

_DOC = """\
Checks an image's files and config: container-structure-test's YAML (schemaVersion 2.0.0:
`metadataTest`, `fileExistenceTests`, `fileContentTests`, `licenseTests`) taken as is, and
policy rules. It runs without a daemon and under remote execution: the test reads the image's
config, layer blobs (each streamed once) and, for package and license rules, its SBOM.
`commandTests` are reported as SKIPPED with the reason (they need a container). A failure
names each failing check and what was expected and found; a policy failure names the path,
package or field and the rule (`rule no_setuid`). See [structure-test.md](structure-test.md).

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_structure_test")

oci_structure_test(
    name = "image_test",
    image = ":image",              # an oci_image, or an oci_image_index with `platform`
    configs = ["image_test.yaml"], # rules_oci's container_structure_test files, unchanged
    non_root = True,
    no_setuid = True,
    no_world_writable = True,
    no_shell = True,               # /bin/sh, /sbin/apk, ..., busybox, apk-tools, ...
    denied_licenses = ["AGPL-3.0-only", "AGPL-3.0-or-later"],
)
```
"""

def _pick(ctx):
    """The OciImageInfo to check: the image, or the index's image for `platform`."""
    target = image_target(ctx)
    if OciImageInfo in target:
        if ctx.attr.platform:
            fail("{}: platform {} is for an index; {} is one image".format(ctx.label, ctx.attr.platform, target.label))
        return target[OciImageInfo]
    images = target[OciIndexInfo].images
    names = ["/".join([i.os, i.architecture] + ([i.variant] if i.variant else [])) for i in images]
    if not ctx.attr.platform:
        fail("{}: {} is an index: set platform to one of {}".format(ctx.label, target.label, names))
    if ctx.attr.platform in names:
        return images[names.index(ctx.attr.platform)]

    # Without a variant, `linux/arm64` names the one arm64 image, whatever its variant.
    matches = [i for i, n in enumerate(names) if n.startswith(ctx.attr.platform + "/")]
    if len(matches) != 1:
        fail("{}: platform {} is not in {} ({})".format(ctx.label, ctx.attr.platform, target.label, names))
    return images[matches[0]]

def _policy(ctx, image):
    a = ctx.attr
    if (a.allowed_base_digests == []) != (a.base == None):
        fail("{}: allowed_base_digests and base go together (base is the image whose digest is checked)".format(ctx.label))
    sbom_rules = a.forbidden_packages + a.allowed_packages + a.denied_packages + a.allowed_licenses + a.denied_licenses
    if sbom_rules and not image.sbom:
        fail("{}: package and license rules read the image's SBOM, and {} has none (its contents list no packages)".format(ctx.label, image_target(ctx).label))
    return struct(
        non_root = a.non_root,
        no_setuid = a.no_setuid,
        no_world_writable = a.no_world_writable,
        forbidden_paths = a.forbidden_paths + (NO_SHELL_PATHS if a.no_shell else []),
        forbidden_packages = a.forbidden_packages + (NO_SHELL_PACKAGES if a.no_shell and image.sbom else []),
        allowed_base_digests = a.allowed_base_digests,
        allowed_packages = a.allowed_packages,
        denied_packages = a.denied_packages,
        allowed_licenses = a.allowed_licenses,
        denied_licenses = a.denied_licenses,
    )

def _oci_structure_test_impl(ctx):
    image = _pick(ctx)
    if not ctx.files.configs and not _any_policy(ctx.attr):
        fail("{}: nothing to check: give configs or a policy attribute".format(ctx.label))
    out = emit_structure_test(
        ctx,
        image = image,
        configs = ctx.files.configs,
        policy = _policy(ctx, image),
        base = ctx.attr.base[OciImageInfo] if ctx.attr.base else None,
        template = ctx.file._launcher_template,
    )
    return [DefaultInfo(executable = out.executable, runfiles = out.runfiles)]

def _any_policy(a):
    return a.non_root or a.no_setuid or a.no_world_writable or a.no_shell or bool(
        a.forbidden_paths + a.forbidden_packages + a.allowed_base_digests + a.allowed_packages +
        a.denied_packages + a.allowed_licenses + a.denied_licenses,
    )

oci_structure_test = rule(
    implementation = _oci_structure_test_impl,
    doc = _DOC,
    attrs = {
        "image": image_attr("The image (`oci_image`) or index (`oci_image_index`, with `platform`). The test reads every layer: for a base `oci.pull` pulled, set `fetch_base_layers`."),
        "platform": attr.string(doc = "For an index: the image to check, as `os/arch[/variant]` (e.g. `linux/arm64`, which names the index's one arm64 image whatever its variant)."),
        "configs": attr.label_list(doc = "container-structure-test files (schemaVersion 2.0.0), checked in order.", allow_files = [".yaml", ".yml", ".json"]),
        "non_root": attr.bool(doc = "Fail when the config's user is root: empty, `0`, `root`, or a name with uid 0 in the image's /etc/passwd."),
        "no_setuid": attr.bool(doc = "Fail on any file with the setuid or setgid bit."),
        "no_world_writable": attr.bool(doc = "Fail on any world-writable file or directory (symlinks, device nodes such as /dev/null and directories with the sticky bit such as /tmp excepted)."),
        "no_shell": attr.bool(doc = "Fail when a shell or package manager is in the image: any of the paths " + ", ".join(NO_SHELL_PATHS) + " or a package named " + ", ".join(NO_SHELL_PACKAGES) + " in the SBOM (when the image has one). Add to the lists with `forbidden_paths` and `forbidden_packages`."),
        "forbidden_paths": attr.string_list(doc = "Fail when any of these paths exists (not followed if a symlink)."),
        "forbidden_packages": attr.string_list(doc = "Fail when the SBOM lists a package of any of these names."),
        "base": attr.label(doc = "The base image whose digest `allowed_base_digests` checks; its layers must be the image's bottom layers.", providers = [OciImageInfo]),
        "allowed_base_digests": attr.string_list(doc = "The digests (`sha256:...`) `base` may have."),
        "allowed_packages": attr.string_list(doc = "When set, every package the SBOM lists must be named here."),
        "denied_packages": attr.string_list(doc = "No package the SBOM lists may be named here."),
        "allowed_licenses": attr.string_list(doc = "When set, every license id in every package's declared license (SPDX expression) must be here; NOASSERTION counts as an id."),
        "denied_licenses": attr.string_list(doc = "No package's declared license may name one of these ids."),
        "_launcher_template": attr.label(default = Label("//oci/private/rules:structure_test.sh.tpl"), allow_single_file = True),
    } | FETCH_BASE_LAYERS_ATTRS,
    test = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
