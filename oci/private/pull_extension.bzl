"""The `oci` module extension: `oci.pull(...)` repositories."""

load(":pull.bzl", "oci_pull")

_PULL_DOC = """Pulls an image by digest. `@name` (i.e. `@name//:name`) is its OCI layout, for
`oci_image(base = ...)`. With `platforms`, `digest` is the index's and each platform is pulled
into its own repository (`name_<os>_<arch>[_<variant>]`); `@name` selects by the target
platform, so it also works under `oci_image_index`'s platform transition. List only `name`
in `use_repo`. Shallow: each image's repository holds its index, manifest and config; the layer
blobs are fetched (into `<its name>_layers`) only for builds that ask for their bytes
(`oci_load` or `oci_structure_test` with `fetch_base_layers = True`, or
`--@rules_wharf//oci/settings:fetch_base_layers`), never to build on the image or push it (push
mounts or copies them registry to registry): docs/pull.md.

```starlark
oci = use_extension("@rules_wharf//oci:extensions.bzl", "oci")
oci.pull(
    name = "alpine",
    image = "index.docker.io/library/alpine",
    tag = "3.20",  # what the digest was taken from: checked at fetch time, updated by Renovate
    digest = "sha256:...",  # the index's: `crane digest index.docker.io/library/alpine:3.20`
    platforms = [
        "linux/amd64",
        "linux/arm64/v8",
    ],
)
use_repo(oci, "alpine")

# A base whose cosign signature must verify with one of your keys, or the fetch fails.
oci.pull(
    name = "base",
    image = "ghcr.io/org/base",
    digest = "sha256:...",
    verify = ["//keys:cosign.pub"],  # PEM public keys, or a JSON policy of keys per image prefix
)
use_repo(oci, "base")
```
"""

_pull = tag_class(
    doc = _PULL_DOC,
    attrs = {
        "name": attr.string(doc = "Repository name.", mandatory = True),
        "image": attr.string(
            doc = "`REGISTRY/REPOSITORY` (e.g. `index.docker.io/library/alpine`, `ghcr.io/org/app`, `127.0.0.1:5000/app`), optionally `@sha256:...`. An `http://` prefix selects plain http; `localhost`, `127.0.0.1` and `[::1]` use plain http by default. A tag without a digest is refused; `NAME:TAG@sha256:...` is `tag` and `digest` in one.",
            mandatory = True,
        ),
        "digest": attr.string(doc = "`sha256:...` of the image manifest, or of the index when `platforms` is given."),
        "tag": attr.string(doc = "The tag `digest` was taken from (e.g. `3.20`): `oci.pull(name, image, tag, digest)` is the form Renovate's Bazel module manager updates. The digest stays what is pulled; at fetch time the tag's manifest is read again and a warning is printed when the tag names another digest now or cannot be read. A tag without a digest is refused (get it with `crane digest IMAGE:TAG`)."),
        "platforms": attr.string_list(doc = "`os/arch[/variant]` (e.g. `linux/amd64`, `linux/arm64/v8`) to pull from an index."),
        "token_realm": attr.string(doc = "Bearer token endpoint for registries not built in (Docker Hub, ghcr.io, quay.io, public.ecr.aws, cgr.dev, gcr.io)."),
        "token_service": attr.string(doc = "The bearer challenge's `service`."),
        "verify": attr.label_list(doc = "Public key files (PEM, ECDSA P-256: `cosign.pub`) or JSON policy files; the fetch fails unless the image's cosign signature (of `digest`, found as a referrer or under the tag `sha256-<hex>.sig`) verifies with one of them. See docs/signing.md#verified-bases.", allow_files = True),
    },
)

def _oci_impl(mctx):
    names = {}
    for mod in mctx.modules:
        for tag in mod.tags.pull:
            if tag.name in names:
                fail("oci.pull: two images are named {} ({} and {})".format(tag.name, names[tag.name], tag.image))
            names[tag.name] = tag.image
            oci_pull(
                name = tag.name,
                image = tag.image,
                digest = tag.digest,
                platforms = tag.platforms,
                token_realm = tag.token_realm,
                token_service = tag.token_service,
                tag = tag.tag,
                verify = tag.verify,
            )
    if hasattr(mctx, "extension_metadata"):
        return mctx.extension_metadata(reproducible = True)
    return None

_DOC = """Images pulled by digest from registries (`oci.pull`). In MODULE.bazel:

```starlark
oci = use_extension("@rules_wharf//oci:extensions.bzl", "oci")
oci.pull(
    name = "distroless",
    image = "gcr.io/distroless/static",
    digest = "sha256:...",  # of the manifest: `crane digest --platform linux/amd64 gcr.io/distroless/static:latest`
)
use_repo(oci, "distroless")
```

then `oci_image(base = "@distroless", ...)` builds on it.
"""

oci = module_extension(
    implementation = _oci_impl,
    doc = _DOC,
    tag_classes = {"pull": _pull},
)
