"""Analysis tests: oci_structure_test's refusals, each with the message a user reads.

Fake images and indexes (providers only, no actions that build layers) stand in for
oci_image and oci_image_index.
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//oci:defs.bzl", "OciImageInfo", "OciIndexInfo", "oci_structure_test")

def _fake_image(ctx):
    files = {}
    for name in ["manifest", "config", "descriptor", "digest"]:
        files[name] = ctx.actions.declare_file("{}.{}.json".format(ctx.label.name, name))
        ctx.actions.write(files[name], "{}")
    return OciImageInfo(
        layout = None,
        layers = [],
        extern_layers = [],
        os = "linux",
        architecture = "amd64",
        variant = "",
        sbom = None,
        **files
    )

def _fake_image_impl(ctx):
    return [_fake_image(ctx)]

_fake_image_rule = rule(implementation = _fake_image_impl)

def _fake_index_impl(ctx):
    image = _fake_image(ctx)
    return [OciIndexInfo(index = image.manifest, descriptor = image.descriptor, digest = image.digest, layout = None, images = [image], sbom = None)]

_fake_index_rule = rule(implementation = _fake_index_impl)

def _make_refusal_test(message):
    def _impl(ctx):
        env = analysistest.begin(ctx)
        asserts.expect_failure(env, message)
        return analysistest.end(env)

    return analysistest.make(_impl, expect_failure = True)

_index_without_platform_test = _make_refusal_test("is an index: set platform to one of [\"linux/amd64\"]")
_platform_not_in_index_test = _make_refusal_test("platform linux/s390x is not in")
_platform_for_an_image_test = _make_refusal_test("platform linux/amd64 is for an index;")
_base_digests_without_base_test = _make_refusal_test("allowed_base_digests and base go together")
_sbom_rules_without_sbom_test = _make_refusal_test("package and license rules read the image's SBOM, and")
_nothing_to_check_test = _make_refusal_test("nothing to check: give configs or a policy attribute")

def structure_test_test_suite(name):
    """oci_structure_test refusals.

    Args:
      name: the suite's name.
    """
    _fake_image_rule(name = name + "_image", tags = ["manual"])
    _fake_index_rule(name = name + "_index", tags = ["manual"])
    cases = {
        "index_without_platform": (_index_without_platform_test, dict(image = name + "_index", non_root = True)),
        "platform_not_in_index": (_platform_not_in_index_test, dict(image = name + "_index", platform = "linux/s390x", non_root = True)),
        "platform_for_an_image": (_platform_for_an_image_test, dict(image = name + "_image", platform = "linux/amd64", non_root = True)),
        "base_digests_without_base": (_base_digests_without_base_test, dict(image = name + "_image", allowed_base_digests = ["sha256:00"])),
        "sbom_rules_without_sbom": (_sbom_rules_without_sbom_test, dict(image = name + "_image", denied_licenses = ["AGPL-3.0-only"])),
        "nothing_to_check": (_nothing_to_check_test, dict(image = name + "_image")),
    }
    tests = []
    for case, (test, attrs) in cases.items():
        oci_structure_test(name = "{}_{}_subject".format(name, case), tags = ["manual"], **attrs)
        test(name = "{}_{}".format(name, case), target_under_test = "{}_{}_subject".format(name, case))
        tests.append(":{}_{}".format(name, case))
    native.test_suite(name = name, tests = tests)
