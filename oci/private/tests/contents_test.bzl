"""Analysis tests: oci_image's `apks` reaches any OciImageContentsSourceInfo, with no APK code.

A fake source stands in for a lock's hub target: what it is given (the image's platform,
budget, config and created time) and how the image's SBOM is emitted (the first contents'
`sbom.emit`, with every contents' part in order) are written into files the tests read back.
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//oci:defs.bzl", "OciImageContentsInfo", "OciImageInfo", "oci_image")
load("//oci:providers.bzl", "OciImageContentsSourceInfo")

def _emit_fake_sbom(ctx, parts, layers):
    out = ctx.actions.declare_file(ctx.label.name + ".spdx.json")
    ctx.actions.write(out, ",".join([p.tag for p in parts] + ["layers={}".format(len(layers))]))
    return struct(spdx = out, cyclonedx = out)

def _fake_contents(tag, defaults = []):
    return OciImageContentsInfo(
        layers = [],
        defaults = defaults,
        annotations_as_labels = False,
        inputs = depset(),
        sbom = struct(tag = tag, emit = _emit_fake_sbom),
    )

def _emit_fake(ctx, source, *, platform, layer_budget, layering, config, config_files, created):
    given = ctx.actions.declare_file(ctx.label.name + ".given.json")
    ctx.actions.write(given, json.encode({
        "arch": platform.arch,
        "config": config.basename if config else None,
        "config_files": [f.basename for f in config_files],
        "created": created,
        "layer_budget": layer_budget,
        "layering": layering,
        "source": source.label.name,
    }))
    return _fake_contents(source.label.name, [given])

def _fake_source_impl(_ctx):
    return [OciImageContentsSourceInfo(emit = _emit_fake)]

_fake_source = rule(implementation = _fake_source_impl)

def _fake_contents_impl(ctx):
    return [_fake_contents(ctx.label.name)]

_fake_contents_rule = rule(implementation = _fake_contents_impl)

def _written(env, f):
    """The content of the FileWrite action of the target under test that writes `f`."""
    for action in analysistest.target_actions(env):
        if f in action.outputs.to_list():
            return action.content
    asserts.true(env, False, "no action writes " + f.short_path)
    return None

def _source_gets_image_settings_impl(ctx):
    env = analysistest.begin(ctx)
    contents = analysistest.target_under_test(env)[OciImageContentsInfo]
    asserts.equals(env, "fake_image_apk_contents.given.json", contents.defaults[0].basename)
    asserts.equals(env, {
        "arch": "amd64",
        "config": "apko.yaml",
        "config_files": ["apko.lock.json"],
        "created": "2020-02-02T00:00:00Z",
        "layer_budget": 7,
        "layering": "origin",
        "source": "fake_source",
    }, json.decode(_written(env, contents.defaults[0])))
    return analysistest.end(env)

source_gets_image_settings_test = analysistest.make(
    _source_gets_image_settings_impl,
    config_settings = {"//command_line_option:platforms": str(Label("//platforms:linux_amd64"))},
)

def _first_contents_writes_sbom_impl(ctx):
    env = analysistest.begin(ctx)
    sbom = analysistest.target_under_test(env)[OciImageInfo].sbom
    asserts.equals(env, "fake_image.spdx.json", sbom.basename)

    # The source's contents come first (`apks`), then `contents`, in order.
    asserts.equals(env, "fake_source,fake_other,layers=0", _written(env, sbom))
    return analysistest.end(env)

first_contents_writes_sbom_test = analysistest.make(
    _first_contents_writes_sbom_impl,
    config_settings = {"//command_line_option:platforms": str(Label("//platforms:linux_amd64"))},
)

def contents_test_suite(name):
    """oci_image(apks = a fake source, contents = [another]) and the tests reading it.

    Args:
      name: the suite's name.
    """

    # manual: `bazel build //...` would run wharf on the fake files.
    _fake_source(name = "fake_source", tags = ["manual"])
    _fake_contents_rule(name = "fake_other", tags = ["manual"])
    oci_image(
        name = "fake_image",
        apks = ":fake_source",
        apk_layer_budget = 7,
        apk_layering = "origin",
        apko_config = "//examples/hello_image:apko.yaml",
        # Stands for a file the configuration includes: the test sees it reach the source.
        apko_config_includes = ["//examples/hello_image:apko.lock.json"],
        contents = [":fake_other"],
        created = "2020-02-02T00:00:00Z",
        tags = ["manual"],
    )
    source_gets_image_settings_test(name = name + "_source_gets_image_settings", target_under_test = ":fake_image_apk_contents")
    first_contents_writes_sbom_test(name = name + "_first_contents_writes_sbom", target_under_test = ":fake_image")
    native.test_suite(name = name, tests = [name + "_source_gets_image_settings", name + "_first_contents_writes_sbom"])
