"""Analysis tests of apk_lock's -dev variant: the launcher writes and checks both locks, and
the attributes that cannot work fail with what to change."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//apk/private/rules:apk_lock.bzl", "DEV_PACKAGES", "apk_lock_run", "apk_lock_test")
load("//tests/analysis:failure_test.bzl", "make_failure_test")

def _args_test_impl(ctx):
    env = analysistest.begin(ctx)
    expands = [a for a in analysistest.target_actions(env) if a.mnemonic == "TemplateExpand"]
    asserts.equals(env, 1, len(expands))
    asserts.equals(env, ctx.attr.want, expands[0].substitutions["{{ARGS}}"])
    return analysistest.end(env)

args_test = analysistest.make(_args_test_impl, attrs = {"want": attr.string()})

fails_test = make_failure_test()

def apk_lock_test_suite(name):
    """The -dev variant's launchers and refusals.

    Args:
      name: the suite's name.
    """
    apk_lock_run(
        name = name + "_dev_run",
        config = "//examples/hello_image:apko.yaml",
        lock = "apko.lock.json",
        dev_lock = "apko.dev.lock.json",
        dev_packages = DEV_PACKAGES,
        tags = ["manual"],
    )
    args_test(
        name = name + "_run",
        target_under_test = name + "_dev_run",
        want = "'--config' 'examples/hello_image/apko.yaml' '--lock' 'apk/private/tests/apko.lock.json' " +
               "'--dev-lock' 'apk/private/tests/apko.dev.lock.json' '--dev-package' 'apk-tools' '--dev-package' 'busybox' '--dev-package' 'cmd:sh'",
    )

    # The check of a lock that exists and a dev lock that does not yet: the tool reports
    # it missing (TestLockDevVariant), with the command that makes it.
    native.genrule(name = name + "_lock_file", outs = ["apko.lock.json"], cmd = "touch $@", tags = ["manual"])
    apk_lock_test(
        name = name + "_dev_check",
        config = "//examples/hello_image:apko.yaml",
        lock = "apko.lock.json",
        dev_lock = "apko.dev.lock.json",
        dev_packages = ["busybox"],
        lock_file = [name + "_lock_file"],
        lock_target = "//apk/private/tests:lock",
        tags = ["manual"],
    )
    args_test(
        name = name + "_check",
        target_under_test = name + "_dev_check",
        want = "'--check' '--config' 'examples/hello_image/apko.yaml' '--lock' 'apk/private/tests/apko.lock.json' " +
               "'--refresh-command' 'bazel run //apk/private/tests:lock' '--dev-lock' 'apk/private/tests/apko.dev.lock.json' '--dev-package' 'busybox'",
    )
    apk_lock_run(
        name = name + "_packages_alone",
        config = "//examples/hello_image:apko.yaml",
        lock = "apko.lock.json",
        dev_packages = ["busybox"],
        tags = ["manual"],
    )
    fails_test(name = name + "_packages_alone_test", target_under_test = name + "_packages_alone", message = "dev_packages needs dev_lock (the lock of the -dev variant)")
    apk_lock_run(
        name = name + "_same_lock",
        config = "//examples/hello_image:apko.yaml",
        lock = "apko.lock.json",
        dev_lock = "apko.lock.json",
        tags = ["manual"],
    )
    fails_test(name = name + "_same_lock_test", target_under_test = name + "_same_lock", message = "dev_lock must differ from lock, both are \"apko.lock.json\"")
    native.test_suite(name = name, tests = [name + "_run", name + "_check", name + "_packages_alone_test", name + "_same_lock_test"])
