"""An analysis test that its target fails analysis with a message, for the rules' tests."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def _failure_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

def make_failure_test(config_settings = {}):
    """An analysis test rule whose `target_under_test` must fail analysis with `message`.

    Assign the result to a global of the test's .bzl file (as `analysistest.make`'s).

    Args:
      config_settings: the configuration to analyse the target under, as for
        `analysistest.make`.

    Returns:
      The test rule.
    """
    return analysistest.make(_failure_test_impl, expect_failure = True, attrs = {"message": attr.string()}, config_settings = config_settings)
