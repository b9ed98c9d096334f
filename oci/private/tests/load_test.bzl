"""oci_load: the targets load_test.sh runs with fake CLIs (and e2e/load_test.go with podman
and containerd), and analysis tests of the tarballs, tags, stamping and a missing platform."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//oci:defs.bzl", "oci_image_index", "oci_image_rule", "oci_layer", "oci_load")
load("//oci/private/rules:pulled_layout.bzl", "oci_pulled_layout")

_STATUS = ["stable-status.txt", "volatile-status.txt"]

def _tarball_actions(env):
    return [a for a in analysistest.target_actions(env) if a.mnemonic == "DockerTarball"]

def _flag_values(argv, flag):
    return [argv[i + 1] for i in range(len(argv) - 1) if argv[i] == flag]

def _tarballs_impl(ctx):
    env = analysistest.begin(ctx)
    actions = _tarball_actions(env)
    outs = sorted([f.basename for a in actions for f in a.outputs.to_list()])
    asserts.equals(env, sorted(ctx.attr.outputs), outs, "DockerTarball outputs")
    for a in actions:
        asserts.equals(env, ctx.attr.tags_given, _flag_values(a.argv, "--tag"), "--tag values")
        status = sorted([f.basename for f in a.inputs.to_list() if f.basename in _STATUS])
        asserts.equals(env, _STATUS if ctx.attr.stamped else [], status, "status inputs")
    files = sorted([f.basename for f in analysistest.target_under_test(env)[DefaultInfo].files.to_list()])
    asserts.equals(env, sorted([o for o in ctx.attr.outputs if o.endswith(".tar")]), files, "the target's files")
    return analysistest.end(env)

_tarballs_test = analysistest.make(_tarballs_impl, attrs = {
    "outputs": attr.string_list(),
    "tags_given": attr.string_list(),
    "stamped": attr.bool(),
})

def _shallow_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    prefix = ctx.attr.prefix + "_shallow_load"
    plans = [a for a in analysistest.target_actions(env) if a.mnemonic == "DockerTarballPlan"]
    asserts.equals(env, 1, len(plans), "DockerTarballPlan actions")
    argv = plans[0].argv
    asserts.equals(env, sorted([prefix + ".plan.json", prefix + ".load.txt"]), sorted([f.basename for f in plans[0].outputs.to_list()]), "the plan's outputs")
    origins = _flag_values(argv, "--origin")
    asserts.equals(env, 1, len(origins), "--origin values")
    asserts.true(env, origins[0].endswith("=registry.example.com/wharf/base"), "--origin " + origins[0])
    runfiles = _flag_values(argv, "--runfile")
    asserts.equals(env, 1, len(runfiles), "--runfile values: the image's own layer only, " + str(runfiles))
    blobs = [f for f in plans[0].inputs.to_list() if f.path == runfiles[0].split("=")[0]]
    asserts.equals(env, [], blobs, "the plan does not read the layer's bytes")
    asserts.equals(env, [prefix + ".plan.json"], [f.basename for f in target[DefaultInfo].files.to_list()], "the target's files: the plan, no tarball")
    asserts.equals(env, [prefix + ".tar"], [f.basename for f in target[OutputGroupInfo].tarball.to_list()], "output group tarball")
    run = [f.basename for f in target[DefaultInfo].default_runfiles.files.to_list()]
    for want in [prefix + ".plan.json", prefix + ".load.txt", runfiles[0].split("/")[-1]]:
        asserts.true(env, want in run, want + " in the runfiles")
    asserts.false(env, prefix + ".tar" in run, "no tarball in the runfiles")
    return analysistest.end(env)

_shallow_test = analysistest.make(_shallow_impl, attrs = {"prefix": attr.string()})

def _no_platform_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "platform \"linux/s390x\": //oci/private/tests:{}_index has no image for it; it has linux/amd64, linux/arm64/v8".format(ctx.attr.prefix))
    return analysistest.end(env)

_no_platform_test = analysistest.make(_no_platform_impl, expect_failure = True, attrs = {"prefix": attr.string()})

def load_test_suite(name):
    """Loads of an image and of an index, each tag form, stamped or not, and the refusal of a missing platform.

    Targets `<name>_<case>_load` are run by load_test.sh (fake docker, podman and nerdctl)
    and e2e/load_test.go (podman, containerd).

    Args:
      name: the suite's name.
    """
    oci_layer(name = name + "_layer", files = {":load_test.sh": "/etc/wharf/load_test.sh"}, tags = ["manual"])
    oci_image_rule(name = name + "_image", layers = [name + "_layer"], tags = ["manual"])
    oci_image_index(
        name = name + "_index",
        images = [name + "_image"],
        platforms = ["//platforms:linux_amd64", "//platforms:linux_arm64"],
        tags = ["manual"],
    )
    cases = {
        "image": dict(image = name + "_image", repo_tags = ["wharf-test/load:a", "wharf-test/load:b"], repo_tag = "registry.example:5000/team/load:c"),
        "default": dict(image = name + "_image"),
        "index": dict(image = name + "_index", repo_tags = ["wharf-test/index:1"]),
        "index_arm64": dict(image = name + "_index", repo_tags = ["wharf-test/index:arm64"], platform = "linux/arm64"),
        "nerdctl": dict(image = name + "_image", repo_tags = ["wharf-test/load:n"], cli = "nerdctl"),
        "ctr": dict(image = name + "_index", repo_tags = ["wharf-test/ctr:1", "wharf-test/ctr:2"], cli = "ctr"),
        "unstamped": dict(image = name + "_image", repo_tags = ["wharf-test/load:v{BUILD_EMBED_LABEL}", "wharf-test/load:dev"]),
        "stamped": dict(image = name + "_image", repo_tags = ["wharf-test/load:v{BUILD_EMBED_LABEL}"], stamp = 1),
        "bad_platform": dict(image = name + "_index", platform = "linux/s390x"),
    }
    for case, kwargs in cases.items():
        oci_load(name = "{}_{}_load".format(name, case), tags = ["manual"], **kwargs)
    expect = {
        "image": (["{}_image_load.tar", "{}_image_load.load.txt"], ["wharf-test/load:a", "wharf-test/load:b", "registry.example:5000/team/load:c"]),
        "default": (["{}_default_load.tar", "{}_default_load.load.txt"], ["bazel/oci/private/tests:{}_image".format(name)]),
        "index": (["{}_index_load_linux_{}.tar", "{}_index_load_linux_{}.load.txt"], ["wharf-test/index:1"]),
        "index_arm64": (["{}_index_arm64_load.tar", "{}_index_arm64_load.load.txt"], ["wharf-test/index:arm64"]),
        "unstamped": (["{}_unstamped_load.tar", "{}_unstamped_load.load.txt"], ["wharf-test/load:v{BUILD_EMBED_LABEL}", "wharf-test/load:dev"]),
        "stamped": (["{}_stamped_load.tar", "{}_stamped_load.load.txt"], ["wharf-test/load:v{BUILD_EMBED_LABEL}"]),
    }
    tests = []
    for case, (outputs, tags) in expect.items():
        outs = [o.format(name, arch) for o in outputs for arch in ["amd64", "arm64_v8"]] if case == "index" else [o.format(name) for o in outputs]
        _tarballs_test(
            name = "{}_{}_tarballs".format(name, case),
            target_under_test = "{}_{}_load".format(name, case),
            outputs = outs,
            tags_given = tags,
            stamped = case == "stamped",
        )
        tests.append(":{}_{}_tarballs".format(name, case))
    _no_platform_test(name = name + "_no_platform", target_under_test = name + "_bad_platform_load", prefix = name)

    # On a shallow pulled base: a plan for `wharf load-tar`, the tarball only in its group.
    oci_pulled_layout(
        name = name + "_shallow_base",
        srcs = ["pulled/layout/index.json"],
        image = "registry.example.com/wharf/base@sha256:00",
        repository = "registry.example.com/wharf/base",
        shallow = True,
        tags = ["manual"],
    )
    oci_image_rule(name = name + "_shallow_image", base = name + "_shallow_base", layers = [name + "_layer"], tags = ["manual"])
    oci_load(name = name + "_shallow_load", image = name + "_shallow_image", tags = ["manual"])
    _shallow_test(name = name + "_shallow", target_under_test = name + "_shallow_load", prefix = name)
    native.test_suite(name = name, tests = tests + [":" + name + "_no_platform", ":" + name + "_shallow"])
