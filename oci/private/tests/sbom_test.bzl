"""Analysis tests: what an oci_layer tells its SBOM part (`wharf sbom-layer`).

`go_packages_aspect` must find examples/sbom's program, its main package and every Go
package it links, third-party ones with their go_deps labels, without loading rules_go; the
files and the go.mod/go.sum reach the action.
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//oci:defs.bzl", "oci_layer")

def _sbom_layer_action(env):
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "SbomLayer"]
    asserts.equals(env, 1, len(actions), "SbomLayer actions")
    return actions[0] if actions else None

def _has(env, argv, prefix):
    asserts.true(env, [a for a in argv if a.startswith(prefix)], "no argument starting with " + repr(prefix) + " in " + repr(argv))

def _go_binary_reaches_sbom_layer_impl(ctx):
    env = analysistest.begin(ctx)
    action = _sbom_layer_action(env)
    if action:
        argv = action.argv
        asserts.true(env, "--label" in argv and argv[argv.index("--label") + 1] == "//examples/sbom:app", "--label //examples/sbom:app")
        _has(env, argv, "--go-binary=/usr/bin/words\t")
        _has(env, argv, "--go-main=/usr/bin/words\tgithub.com/rules-wharf/rules_wharf/examples/sbom")
        _has(env, argv, "--go-package=/usr/bin/words\tgithub.com/rules-wharf/rules_wharf/examples/sbom\t//examples/sbom:sbom_lib")
        _has(env, argv, "--go-package=/usr/bin/words\tgithub.com/google/shlex\t@")
        _has(env, argv, "--go-package=/usr/bin/words\tgithub.com/klauspost/pgzip\t@")
        _has(env, argv, "--go-package=/usr/bin/words\tgithub.com/klauspost/compress/flate\t@")
        _has(env, argv, "--file=/usr/share/doc/words/main.go\texamples/sbom/main.go\t//examples/sbom:main.go\tsource")
        _has(env, argv, "--go-mod")
        _has(env, argv, "--go-sum")
        inputs = [f.short_path for f in action.inputs.to_list()]
        for want in ["go.mod", "go.sum", "examples/sbom/main.go"]:
            asserts.true(env, want in inputs, want + " is not an input")
    return analysistest.end(env)

go_binary_reaches_sbom_layer_test = analysistest.make(_go_binary_reaches_sbom_layer_impl)

def _no_go_binary_impl(ctx):
    env = analysistest.begin(ctx)
    action = _sbom_layer_action(env)
    if action:
        asserts.false(env, [a for a in action.argv if a.startswith("--go-")], "a --go- flag for a layer without a Go binary")
        _has(env, action.argv, "--file=/etc/tests/sbom_test.bzl\toci/private/tests/sbom_test.bzl\t//oci/private/tests:sbom_test.bzl\tsource")
    return analysistest.end(env)

no_go_binary_test = analysistest.make(_no_go_binary_impl)

def sbom_test_suite(name):
    go_binary_reaches_sbom_layer_test(name = name + "_go_binary_reaches_sbom_layer", target_under_test = "//examples/sbom:app")
    oci_layer(name = name + "_plain", files = {"sbom_test.bzl": "/etc/tests/"}, tags = ["manual"])
    no_go_binary_test(name = name + "_no_go_binary", target_under_test = name + "_plain")
    native.test_suite(name = name, tests = [name + "_go_binary_reaches_sbom_layer", name + "_no_go_binary"])
