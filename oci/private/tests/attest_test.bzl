"""Analysis tests: oci_push's signing lines (`--sign=required`, `--attestation=`), which
statements it attaches, its and oci_push_all's `<name>.verify` targets, and the provenance's
status inputs."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//oci:defs.bzl", "oci_image_index", "oci_image_rule", "oci_layer", "oci_push", "oci_push_all")
load("//oci:providers.bzl", "OciPushInfo")
load("//tests/analysis:failure_test.bzl", "make_failure_test")

def _plan_lines(env):
    """The lines of the push's first plan (its FileWrite action's content)."""
    plan = analysistest.target_under_test(env)[OciPushInfo].plan
    for a in analysistest.target_actions(env):
        if plan in a.outputs.to_list():
            return a.content.split("\n")
    asserts.true(env, False, "no action writes " + plan.short_path)
    return []

def _signing_lines(lines):
    return [line.rpartition("/")[2] if line.startswith("--attestation=") else line for line in lines if line.startswith(("--sign", "--attestation"))]

def _plan_test_impl(ctx):
    env = analysistest.begin(ctx)
    lines = _plan_lines(env)
    asserts.equals(env, ctx.attr.want, _signing_lines(lines), "--sign/--attestation lines (statement file names)")

    # Every statement the plan names is in the runfiles at the path the plan gives.
    runfiles = [f.short_path for f in analysistest.target_under_test(env)[DefaultInfo].default_runfiles.files.to_list()]
    symlinks = [s.path for s in analysistest.target_under_test(env)[DefaultInfo].default_runfiles.symlinks.to_list()]
    for line in lines:
        if line.startswith("--attestation="):
            asserts.true(env, line.removeprefix("--attestation=") in symlinks, line + " is not in the runfiles")
    asserts.false(env, [p for p in runfiles + symlinks if p.endswith((".key", ".pem"))], "a key-like file in the runfiles")
    return analysistest.end(env)

_plan_test = analysistest.make(_plan_test_impl, attrs = {"want": attr.string_list()})

_refusal_test = make_failure_test()

def _verify_test_impl(ctx):
    env = analysistest.begin(ctx)
    script = [a for a in analysistest.target_actions(env) if a.mnemonic == "TemplateExpand"]
    asserts.equals(env, 1, len(script), "launcher actions")
    plans = ["oci/private/tests/{}.plan".format(p) for p in ctx.attr.pushes]
    if script:
        want = " verify {} \"$@\"".format(" ".join(["--plan '{}'".format(p) for p in plans]))
        asserts.true(env, want in script[0].content, "launcher: " + script[0].content)
    runfiles = analysistest.target_under_test(env)[DefaultInfo].default_runfiles
    paths = [f.short_path for f in runfiles.files.to_list()] + [s.path for s in runfiles.symlinks.to_list()]
    for p in plans:
        asserts.true(env, p in paths, p + " is not in the runfiles")
    asserts.true(env, [p for p in paths if p.endswith("provenance.intoto.json")], "the provenance is not in the runfiles")
    return analysistest.end(env)

# pushes: the oci_push targets whose plans the verify target checks, in order.
_verify_test = analysistest.make(_verify_test_impl, attrs = {"pushes": attr.string_list()})

def _status_test_impl(ctx):
    env = analysistest.begin(ctx)
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "Provenance"]
    asserts.equals(env, 1, len(actions), "Provenance actions")
    if actions:
        got = sorted([f.basename for f in actions[0].inputs.to_list() if f.basename.endswith("-status.txt")])
        asserts.equals(env, ["stable-status.txt", "volatile-status.txt"] if ctx.attr.reads else [], got, "status inputs of the provenance")
        subjects = [actions[0].argv[i + 1] for i, a in enumerate(actions[0].argv) if a == "--subject"]
        asserts.equals(env, ctx.attr.subjects, [s.rpartition("/")[2] for s in subjects], "--subject descriptors")
    return analysistest.end(env)

_status_test = analysistest.make(_status_test_impl, attrs = {"reads": attr.bool(), "subjects": attr.string_list()})

def _bases_test_impl(ctx):
    env = analysistest.begin(ctx)
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "Provenance"]
    asserts.equals(env, 1, len(actions), "Provenance actions")
    if actions:
        argv = actions[0].argv
        values = [argv[i + 1].partition("=") for i, a in enumerate(argv) if a == "--base"]
        bases = [path.rpartition("/")[2] + "=" + name for path, _, name in values]
        asserts.equals(env, ctx.attr.bases, bases, "--base DESCRIPTOR=NAME (file names)")
        inputs = [f.basename for f in actions[0].inputs.to_list()]
        for b in ctx.attr.bases:
            asserts.true(env, b.partition("=")[0] in inputs, b + " is not an input")
    return analysistest.end(env)

# The base by digest: an oci_image's descriptor, or an imported layout's (layout-import).
_bases_test = analysistest.make(_bases_test_impl, attrs = {"bases": attr.string_list()})

_IMAGE = ["image.spdx.intoto.json", "image.cdx.intoto.json", "image.provenance.intoto.json"]

def _pushes(name):
    """The push cases: {case: (push kwargs, the signing lines wanted)}."""
    sbom, plain, index = ":{}_image".format(name), ":{}_plain".format(name), ":{}_index".format(name)
    index_statements = ["{}_index.{}.intoto.json".format(name, k) for k in ["spdx", "cdx", "provenance"]]
    return {
        "unsigned": (dict(image = sbom), []),
        "signed": (dict(image = sbom, sign = True), ["--sign=required"] + ["{}_{}".format(name, f) for f in _IMAGE]),
        "provenance": (dict(image = sbom, sign = True, attestations = ["provenance"]), ["--sign=required", "{}_image.provenance.intoto.json".format(name)]),
        "none": (dict(image = sbom, sign = True, attestations = ["none"]), ["--sign=required"]),
        # Named without sign: attached when a key is given at run time.
        "spdx_unsigned": (dict(image = sbom, attestations = ["spdx"]), ["{}_image.spdx.intoto.json".format(name)]),
        # No SBOM: signing attaches the provenance alone.
        "plain": (dict(image = plain, sign = True), ["--sign=required", "{}_plain.provenance.intoto.json".format(name)]),
        # The index's statements, then each platform image's (one platform here).
        "index": (dict(image = index, sign = True), ["--sign=required"] + index_statements + ["{}_{}".format(name, f) for f in _IMAGE]),
    }

def attest_test_suite(name):
    """oci_push's signing lines and refusals, `<name>.verify`, the provenance's inputs.

    Args:
      name: the suite's name.
    """
    oci_layer(name = name + "_layer", files = {"attest_test.bzl": "/etc/tests/"}, tags = ["manual"])
    oci_image_rule(name = name + "_image", layers = [name + "_layer"], tags = ["manual"])
    oci_image_rule(name = name + "_plain", tags = ["manual"])
    oci_image_rule(name = name + "_stamped", stamp = 1, tags = ["manual"])
    oci_image_index(name = name + "_index", images = [name + "_image"], tags = ["manual"])
    tests = []
    for case, (kwargs, want) in _pushes(name).items():
        oci_push(name = "{}_{}_push".format(name, case), tags = ["manual"], **kwargs)
        _plan_test(name = "{}_{}_plan".format(name, case), target_under_test = "{}_{}_push".format(name, case), want = want)
        tests.append(":{}_{}_plan".format(name, case))
    refusals = {
        "no_sbom": (dict(image = name + "_plain", sign = True, attestations = ["sbom"]), "attestations has \"spdx\", but @@//oci/private/tests:{}_plain has no SBOM: its contents list no packages and its layers no files (see docs/sbom.md); leave it out of attestations".format(name)),
        "unknown": (dict(image = name + "_image", attestations = ["slsa"]), "attestations: unknown kind \"slsa\" (known: sbom, spdx, cyclonedx, provenance, or \"none\" alone)"),
    }
    for case, (kwargs, message) in refusals.items():
        oci_push(name = "{}_{}_push".format(name, case), tags = ["manual"], **kwargs)
        _refusal_test(name = "{}_{}".format(name, case), target_under_test = "{}_{}_push".format(name, case), message = message)
        tests.append(":{}_{}".format(name, case))
    _verify_test(name = name + "_verify", target_under_test = "{}_signed_push.verify".format(name), pushes = ["{}_signed_push".format(name)])

    # oci_push_all's <name>.verify checks every push's plans.
    pushes = ["{}_{}_push".format(name, case) for case in ["signed", "unsigned", "index"]]
    oci_push_all(name = name + "_all", pushes = pushes, tags = ["manual"])
    _verify_test(name = name + "_all_verify", target_under_test = name + "_all.verify", pushes = pushes)
    statuses = {
        "unstamped": (name + "_image", False, ["{}_image.descriptor.json".format(name)]),
        "stamped": (name + "_stamped", True, ["{}_stamped.descriptor.json".format(name)]),
        "index_subjects": (name + "_index", False, ["{}_index.descriptor.json".format(name), "{}_image.descriptor.json".format(name)]),
    }
    for case, (target, reads, subjects) in statuses.items():
        _status_test(name = "{}_{}_provenance".format(name, case), target_under_test = target, reads = reads, subjects = subjects)
        tests.append(":{}_{}_provenance".format(name, case))
    native.filegroup(name = name + "_layout", srcs = [name + "_image"], output_group = "layout", tags = ["manual"])
    oci_image_rule(name = name + "_on_image", base = name + "_image", tags = ["manual"])
    oci_image_rule(name = name + "_on_layout", base = name + "_layout", tags = ["manual"])
    bases = {
        "on_image": "{}_image.descriptor.json=//oci/private/tests:{}_image".format(name, name),
        "on_layout": "{}_on_layout.base.descriptor.json=//oci/private/tests:{}_layout".format(name, name),
    }
    for case, want in bases.items():
        _bases_test(name = "{}_{}_base".format(name, case), target_under_test = "{}_{}".format(name, case), bases = [want])
        tests.append(":{}_{}_base".format(name, case))
    native.test_suite(name = name, tests = tests + [":" + name + "_verify", ":" + name + "_all_verify"])
