"""Analysis tests of origin layering (apk_layering = "origin") on the example lock's packages."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//apk/private/rules:apk_image_contents.bzl", "apk_image_contents")
load("//apk/private/rules:apk_package.bzl", "apk_package")
load("//apk/private/rules:apk_packages.bzl", "apk_packages")
load("//oci:defs.bzl", "oci_image")
load("//oci:providers.bzl", "OciImageContentsInfo")
load("//tests/analysis:failure_test.bzl", "make_failure_test")

_AMD64 = {"//command_line_option:platforms": str(Label("//platforms:linux_amd64"))}

def _origin_layers_impl(ctx):
    env = analysistest.begin(ctx)
    layers = analysistest.target_under_test(env)[OciImageContentsInfo].layers

    # examples/apk_repo: wharf-motd replaces wharf-baselayout, so the two share a group,
    # larger (46 + 32 bytes installed) than wharf-greeting's (27): it comes first, though
    # the lock installs wharf-greeting first; then the top layer.
    asserts.equals(env, ["origin_contents.apk_group0.tar.gz", "wharf-greeting-0.3.0-r2.x86_64.data.tar.gz", "origin_contents.apk_top.tar.gz"], [x.blob.basename for x in layers])
    actions = {a.mnemonic: a for a in analysistest.target_actions(env)}

    # The group splices its packages in lock order: wharf-motd's /etc/motd wins.
    asserts.true(env, "--created-by apk wharf-baselayout-1.0.0-r0 wharf-motd-2.1.0-r1 " in " ".join(actions["ApkLayerGroup"].argv) + " ")
    top = actions["ApkTopLayer"].argv
    asserts.equals(env, ["--stack"], [a for a in top if a == "--stack"])
    stacked = [top[i + 1] for i, a in enumerate(top) if a == "--layer"]
    asserts.equals(env, 2, len(stacked))
    asserts.true(env, "/apkdb.tar.gz=" in stacked[0], stacked[0])
    asserts.true(env, ".apko.tar.gz=" in stacked[1], stacked[1])
    asserts.true(env, "--apk-layering origin" in " ".join(actions["ApkoImageConfig"].argv))
    return analysistest.end(env)

origin_layers_test = analysistest.make(_origin_layers_impl, config_settings = _AMD64)

def _no_config_impl(ctx):
    env = analysistest.begin(ctx)
    layers = analysistest.target_under_test(env)[OciImageContentsInfo].layers

    # Budget 1: every group in one; without apko_config the top layer is the database layer.
    asserts.equals(env, ["no_config_apk_contents.apk_group0.tar.gz", "apkdb.tar.gz"], [x.blob.basename for x in layers])
    return analysistest.end(env)

no_config_test = analysistest.make(_no_config_impl, config_settings = _AMD64)

_fails_test = make_failure_test(config_settings = _AMD64)

def layering_test_suite(name):
    """Origin layering's layers and refusals.

    Args:
      name: the suite's name.
    """
    apk_image_contents(
        name = "origin_contents",
        apks = "@example_hello",
        apk_layer_budget = 2,
        apk_layering = "origin",
        apko_config = "//examples/hello_image:apko.yaml",
        tags = ["manual"],
    )
    origin_layers_test(name = name + "_origin", target_under_test = ":origin_contents")

    # Budget 0 means no limit for contiguous runs; apko's origin layering needs at least 1.
    oci_image(name = "origin_budget_0", apks = "@example_hello", apk_layering = "origin", tags = ["manual"])
    _fails_test(
        name = name + "_budget_0",
        target_under_test = ":origin_budget_0_apk_contents",
        message = "origin_budget_0_apk_contents: layering budget is 0: origin layering needs at least 1 (apko's layering.budget; apk_layer_budget)",
    )
    oci_image(name = "no_config", apks = "@example_hello", apk_layer_budget = 1, apk_layering = "origin", tags = ["manual"])
    no_config_test(name = name + "_no_config", target_under_test = ":no_config_apk_contents")

    # An apk_package written by hand, without origin.
    native.genrule(name = "hand_made_apk", outs = ["hand-made.apk"], cmd = "touch $@", tags = ["manual"])
    apk_package(
        name = "hand_made",
        package_name = "hand-made",
        version = "0.1-r0",
        arch = "x86_64",
        url = "hand-made.apk",
        control_checksum = "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        data_checksum = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        parts = [":hand_made_apk"],
        tags = ["manual"],
    )
    apk_packages(name = "hand_made_packages", arch = "x86_64", packages = [":hand_made"], tags = ["manual"])
    oci_image(name = "no_origin", apks = ":hand_made_packages", apk_layer_budget = 2, apk_layering = "origin", tags = ["manual"])
    _fails_test(
        name = name + "_no_origin",
        target_under_test = ":no_origin_apk_contents",
        message = "no_origin_apk_contents: package hand-made-0.1-r0 has no origin, which origin layering groups by: its .PKGINFO names none (or apk_package sets no origin)",
    )
    oci_image(name = "size_layering", apks = "@example_hello", apk_layer_budget = 2, apk_layering = "size", tags = ["manual"])
    _fails_test(
        name = name + "_unknown",
        target_under_test = ":size_layering_apk_contents",
        message = "size_layering_apk_contents: apk_layering is \"size\": only \"origin\" (apko's layering.strategy) or empty",
    )
