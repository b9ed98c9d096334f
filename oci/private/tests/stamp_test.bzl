"""Analysis tests: which actions read the workspace status (only a stamped value's, only when
stamping); oci_push's plan per repository."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//oci:defs.bzl", "oci_image_index", "oci_image_rule", "oci_push")
load("//oci:providers.bzl", "OciPushInfo")

_STATUS = ["stable-status.txt", "volatile-status.txt"]

def _status_inputs(env, mnemonic):
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == mnemonic]
    asserts.equals(env, 1, len(actions), "{} actions".format(mnemonic))
    return [f.basename for f in actions[0].inputs.to_list() if f.basename in _STATUS]

def _reads_status_impl(ctx):
    env = analysistest.begin(ctx)
    got = _status_inputs(env, ctx.attr.mnemonic)
    asserts.equals(env, _STATUS if ctx.attr.reads else [], sorted(got), "status inputs of {}".format(ctx.attr.mnemonic))
    return analysistest.end(env)

_reads_status_test = analysistest.make(_reads_status_impl, attrs = {
    "mnemonic": attr.string(),
    "reads": attr.bool(),
})

def _push_plans_impl(ctx):
    env = analysistest.begin(ctx)
    plans = [f.basename for f in analysistest.target_under_test(env)[OciPushInfo].plans]
    asserts.equals(env, ["{}.plan".format(ctx.attr.push), "{}.1.plan".format(ctx.attr.push)], plans)
    return analysistest.end(env)

_push_plans_test = analysistest.make(_push_plans_impl, attrs = {"push": attr.string()})

def _push_refusal_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "repositories needs repository (the first repository to push to)")
    return analysistest.end(env)

_push_refusal_test = analysistest.make(_push_refusal_impl, expect_failure = True)

def _push_tests(name, image):
    oci_push(name = name + "_push", image = image, repository = "r.example/a", repositories = ["r.example/b"], tags = ["manual"])
    _push_plans_test(name = name + "_push_plans", target_under_test = name + "_push", push = name + "_push")
    oci_push(name = name + "_push_bad", image = image, repositories = ["r.example/b"], tags = ["manual"])
    _push_refusal_test(name = name + "_push_refusal", target_under_test = name + "_push_bad")
    return [":" + name + "_push_plans", ":" + name + "_push_refusal"]

def stamp_test_suite(name):
    """Status inputs of oci_image_rule and oci_image_index, stamped or not; oci_push's plans per repository.

    Args:
      name: the suite's name.
    """
    placeholder = {"org.opencontainers.image.revision": "{STABLE_GIT_COMMIT}"}
    cases = {
        # This test runs without --stamp: the default stamp = -1 reads no status.
        "unstamped": dict(labels = placeholder, created = "{BUILD_TIMESTAMP}"),
        "stamp_0": dict(labels = placeholder, stamp = 0),
        "stamped": dict(labels = placeholder, stamp = 1),
        "stamped_created": dict(created = "{BUILD_TIMESTAMP}", stamp = 1),
        "stamped_file": dict(labels_file = "BUILD.bazel", stamp = 1),
        # Stamping, but nothing to expand: the action stays off the volatile status.
        "stamped_plain": dict(labels = {"a": "b"}, stamp = 1),
    }
    tests = []
    for case, kwargs in cases.items():
        oci_image_rule(name = "{}_{}_image".format(name, case), tags = ["manual"], **kwargs)
        _reads_status_test(
            name = "{}_{}".format(name, case),
            target_under_test = "{}_{}_image".format(name, case),
            mnemonic = "OciImage",
            reads = case.startswith("stamped") and case != "stamped_plain",
        )
        tests.append(":{}_{}".format(name, case))
    for case, stamp in {"index_unstamped": -1, "index_stamped": 1}.items():
        oci_image_index(
            name = "{}_{}_index".format(name, case),
            images = [name + "_stamped_plain_image"],
            annotations = placeholder,
            stamp = stamp,
            tags = ["manual"],
        )
        _reads_status_test(name = "{}_{}".format(name, case), target_under_test = "{}_{}_index".format(name, case), mnemonic = "OciIndex", reads = stamp == 1)
        tests.append(":{}_{}".format(name, case))
    tests += _push_tests(name, name + "_stamped_plain_image")
    native.test_suite(name = name, tests = tests)
