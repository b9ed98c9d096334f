"""oci_image_explain: `bazel run` says which layer, package or target put a path in an image."""

load("//oci/private/actions:files.bzl", "emit_explain_launcher")
load("//oci/private/actions:labels.bzl", "label_text")
load("//toolchain:toolchain.bzl", "WHARF_TOOLCHAIN_TYPE")

def _oci_image_explain_impl(ctx):
    groups = ctx.attr.image[OutputGroupInfo]
    files = groups.files.to_list() if hasattr(groups, "files") else []
    if len(files) != 1:
        fail("{}: image {} has no files document (output group `files` of oci_image)".format(ctx.label, ctx.attr.image.label))
    launcher = emit_explain_launcher(ctx, template = ctx.file._template, files = files[0], image = label_text(ctx.attr.image.label))
    return [DefaultInfo(executable = launcher.executable, runfiles = launcher.runfiles)]

_DOC = """Prints, for each path given on the command line, the layer (index and digest), the APK
package (name@version, origin, license) or the target that put it in `image`, and every earlier
layer whose entry it replaced or a whiteout deleted; a symlink shows its target. A path the
image does not hold fails, naming it and the closest paths it does hold. It reads the image's
files document (output group `files`), made from the layers' metadata, never from the blobs.

`oci_image` adds one as `<name>.explain` (tagged `manual`: `bazel build //...` does not build it):

```
$ bazel run //app:image.explain -- /etc/os-release /usr/bin/hello
/etc/os-release (file 0644)
  from layer 5 (sha256:…): //app:etc
  replaced layer 1 (sha256:…): package wolfi-baselayout@20230201-r15 (origin wolfi-baselayout, license MIT), @@…
```

```starlark
load("@rules_wharf//oci:defs.bzl", "oci_image_explain")

oci_image_explain(
    name = "explain_base",
    image = "//images:base",
)
```
"""

oci_image_explain = rule(
    implementation = _oci_image_explain_impl,
    doc = _DOC,
    attrs = {
        "image": attr.label(doc = "An `oci_image` (or any target with output group `files`).", mandatory = True),
        "_template": attr.label(doc = "The run script's template.", default = Label("//oci/private/rules:explain.sh.tpl"), allow_single_file = True),
    },
    executable = True,
    toolchains = [WHARF_TOOLCHAIN_TYPE],
)
