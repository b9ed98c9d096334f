"""SBOM emitters: an image's document (`emit_image_sbom`; with packages through its contents'
apk/private/actions/sbom.bzl), a layer's part of it (`emit_layer_sbom`) and an index's
(`emit_index_sbom`)."""

load("//oci/private/providers:oci_go_packages_info.bzl", "OciGoPackagesInfo")
load("//toolchain:actions.bzl", "wharf_action")
load(":labels.bzl", "label_text")

def _image_arg(image):
    return image.descriptor.path + ("=" + image.sbom.path if image.sbom else "")

def emit_index_sbom(ctx, *, descriptor, images):
    """Writes `<name>.spdx.json` and `<name>.cdx.json`: the index, each platform's image and their contents.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      descriptor: File, the index's descriptor.
      images: list of OciImageInfo, each with its own SBOM or none.

    Returns:
      struct(spdx = File, cyclonedx = File).
    """
    out = ctx.actions.declare_file(ctx.label.name + ".spdx.json")
    cyclonedx = ctx.actions.declare_file(ctx.label.name + ".cdx.json")
    args = ctx.actions.args()
    args.add("--name", label_text(ctx.label))
    args.add("--purl-name", ctx.label.name)
    args.add("--index-descriptor", descriptor)
    args.add_all(images, map_each = _image_arg, before_each = "--image")
    args.add("--out", out)
    args.add("--cyclonedx", cyclonedx)
    wharf_action(
        ctx,
        "sbom-index",
        args,
        inputs = [descriptor] + [i.descriptor for i in images] + [i.sbom for i in images if i.sbom],
        outputs = [out, cyclonedx],
        mnemonic = "SbomIndex",
        progress_message = "Writing index SBOM for %{label}",
        worker = True,
    )
    return struct(spdx = out, cyclonedx = cyclonedx)

# A layer's files for `wharf sbom-layer --file`: DEST<TAB>PATH<TAB>LABEL<TAB>source|generated,
# DEST given by format_each (the destination, a directory's, or a runfiles tree's).
def _entry(f, dest_suffix):
    return "{}\t{}\t{}\t{}".format(dest_suffix, f.path, label_text(f.owner), "source" if f.is_source else "generated")

def _file_entry(f):
    return _entry(f, "")

def _basename_entry(f):
    return _entry(f, f.basename)

def _runfiles_entry(f):
    # The runfiles tree layout, as the layer writes it: <repo>/<path>, main repository _main.
    p = f.short_path
    return _entry(f, p[3:] if p.startswith("../") else "_main/" + p)

def _add_layer_files(args, target, dest, include_runfiles):
    """Adds the --file flags of one `files` entry; returns the depsets read."""
    d = dest.replace("%", "%%")
    srcs = target[DefaultInfo].files
    read = [srcs]
    if dest.endswith("/"):
        args.add_all(srcs, map_each = _basename_entry, format_each = "--file=" + d + "%s", expand_directories = False)
        return read
    args.add_all(srcs, map_each = _file_entry, format_each = "--file=" + d + "%s", expand_directories = False)
    executable = target[DefaultInfo].files_to_run.executable
    runfiles = target[DefaultInfo].default_runfiles
    if include_runfiles and executable and runfiles:
        args.add_all(runfiles.files, map_each = _runfiles_entry, format_each = "--file=" + d + ".runfiles/%s")
        read.append(runfiles.files)
    return read

def _add_go_binary(args, target, dest):
    """Adds the --go-* flags of a Go binary in `files`; returns the files read, or []."""
    info = target[OciGoPackagesInfo] if OciGoPackagesInfo in target else None
    executable = target[DefaultInfo].files_to_run.executable
    if not info or not info.is_binary or not executable:
        return []
    if dest.endswith("/"):
        dest += executable.basename
    args.add("--go-binary={}\t{}\t{}".format(dest, executable.path, label_text(target.label)))
    args.add("--go-main={}\t{}".format(dest, info.main))
    args.add_all(info.packages, format_each = "--go-package=" + dest.replace("%", "%%") + "\t%s")
    return [executable]

def emit_layer_sbom(ctx, *, files, include_runfiles, go_mod, go_sum):
    """Writes `<name>.sbom-part.json`: what the layer of `ctx` (oci_layer) adds to its images' SBOMs.

    The files `files` puts in the layer, each with the label of the target that made it (a
    source file's own) and its hashes, and each Go binary among them (a target the
    `go_packages_aspect` found a `go_binary`) with its Go version and the modules its packages
    belong to, per `go_mod`/`go_sum`.

    Args:
      ctx: the rule context (needs the wharf toolchain).
      files: dict of Target to destination path, as oci_layer's `files`.
      include_runfiles: whether executables' runfiles are in the layer beside them.
      go_mod: File or None: the go.mod naming the Go packages' modules and versions.
      go_sum: File or None: its go.sum, for the modules' checksums.

    Returns:
      File: the part.
    """
    out = ctx.actions.declare_file(ctx.label.name + ".sbom-part.json")
    args = ctx.actions.args()
    args.add("--label", label_text(ctx.label))
    inputs = []
    direct = []
    for target, dest in files.items():
        inputs.extend(_add_layer_files(args, target, dest, include_runfiles))
        direct.extend(_add_go_binary(args, target, dest))
    for flag, f in [("--go-mod", go_mod), ("--go-sum", go_sum)]:
        if f:
            args.add(flag, f)
            direct.append(f)
    args.add("--out", out)
    wharf_action(
        ctx,
        "sbom-layer",
        args,
        inputs = depset(direct, transitive = inputs),
        outputs = [out],
        mnemonic = "SbomLayer",
        progress_message = "Describing the files of layer %{label} for SBOMs",
        worker = True,
    )
    return out

def _layer_arg(layer):
    return "{}={}".format(layer.metadata.path, layer.sbom.path)

def emit_image_sbom(ctx, *, layers, args = None, inputs = []):
    """Writes `<name>.spdx.json` and `<name>.cdx.json` for the image rule of `ctx`.

    Args:
      ctx: the image rule's context (needs the wharf toolchain).
      layers: list of OciLayerInfo, bottom first: those with an `sbom` part are listed.
      args: an Args with `wharf sbom`'s package flags (apk/private/actions/sbom.bzl), or None:
        no packages.
      inputs: list of File those flags read.

    Returns:
      struct(spdx = File, cyclonedx = File).
    """
    out = ctx.actions.declare_file(ctx.label.name + ".spdx.json")
    cyclonedx = ctx.actions.declare_file(ctx.label.name + ".cdx.json")
    if args == None:
        args = ctx.actions.args()
        args.add("--name", label_text(ctx.label))
    parts = [layer for layer in layers if getattr(layer, "sbom", None)]
    args.add_all(parts, map_each = _layer_arg, format_each = "--layer=%s")
    args.add("--out", out)
    args.add("--cyclonedx", cyclonedx)
    wharf_action(
        ctx,
        "sbom",
        args,
        inputs = inputs + [layer.metadata for layer in parts] + [layer.sbom for layer in parts],
        outputs = [out, cyclonedx],
        mnemonic = "Sbom",
        progress_message = "Writing SBOM for %{label}",
        worker = True,
    )
    return struct(spdx = out, cyclonedx = cyclonedx)
