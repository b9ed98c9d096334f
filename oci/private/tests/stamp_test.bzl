"""Analysis tests: which actions read the workspace status (only a stamped value's, only when stamping)."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//oci:defs.bzl", "oci_image_index", "oci_image_rule")

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

def stamp_test_suite(name):
    """Status inputs of oci_image_rule and oci_image_index, stamped or not.

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
    native.test_suite(name = name, tests = tests)
