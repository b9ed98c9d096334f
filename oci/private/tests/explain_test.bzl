"""Analysis tests: the files document's inputs, `<image>.explain`'s runfiles, and the refusal
of an image without a files document."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//oci:defs.bzl", "oci_image_explain", "oci_image_rule", "oci_layer")

def _no_files_impl(ctx):
    f = ctx.actions.declare_file(ctx.label.name + ".digest")
    ctx.actions.write(f, "sha256:00")
    return [DefaultInfo(files = depset([f]))]

_no_files_rule = rule(implementation = _no_files_impl)

def _refusal_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "has no files document (output group `files` of oci_image)")
    return analysistest.end(env)

_refusal_test = analysistest.make(_refusal_test_impl, expect_failure = True)

def _files_action_test_impl(ctx):
    env = analysistest.begin(ctx)
    layer = ctx.attr.target_under_test.label.name.removesuffix("_image") + "_layer"
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "OciFiles"]
    asserts.equals(env, 1, len(actions))
    inputs = [f.basename for f in actions[0].inputs.to_list()]

    # The layer's listing and metadata, never its blob.
    for want in [layer + ".files.json", layer + ".layer.json"]:
        asserts.true(env, want in inputs, "OciFiles does not read {}: {}".format(want, inputs))
    asserts.false(env, layer + ".tar.gz" in inputs, "OciFiles reads the blob: {}".format(inputs))
    return analysistest.end(env)

_files_action_test = analysistest.make(_files_action_test_impl)

def _runfiles_test_impl(ctx):
    env = analysistest.begin(ctx)
    image = ctx.attr.target_under_test.label.name.removesuffix("_explain") + "_image"
    runfiles = [f.basename for f in analysistest.target_under_test(env)[DefaultInfo].default_runfiles.files.to_list()]
    asserts.true(env, image + ".files.json" in runfiles, "no files document in the runfiles: {}".format(runfiles))
    return analysistest.end(env)

_runfiles_test = analysistest.make(_runfiles_test_impl)

def explain_test_suite(name):
    """oci_image's files document and oci_image_explain.

    Args:
      name: the suite's name.
    """
    _no_files_rule(name = name + "_no_files", tags = ["manual"])
    oci_image_explain(name = name + "_refusal_subject", image = name + "_no_files", tags = ["manual"])
    _refusal_test(name = name + "_refusal", target_under_test = name + "_refusal_subject")
    oci_layer(name = name + "_layer", files = {"BUILD.bazel": "/etc/x"}, tags = ["manual"])
    oci_image_rule(name = name + "_image", layers = [name + "_layer"], tags = ["manual"])
    _files_action_test(name = name + "_files_action", target_under_test = name + "_image")
    oci_image_explain(name = name + "_explain", image = name + "_image", tags = ["manual"])
    _runfiles_test(name = name + "_runfiles", target_under_test = name + "_explain")
    native.test_suite(name = name, tests = [":" + name + "_refusal", ":" + name + "_files_action", ":" + name + "_runfiles"])
