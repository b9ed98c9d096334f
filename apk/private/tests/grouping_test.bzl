"""Unit tests of apk_layer_budget's grouping: contiguous runs in lock order, balanced by size."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//apk/private:grouping.bzl", "group_by_origin", "group_packages", "parse_pkginfo")

def _pkgs(*sizes):
    return [struct(name = "p{}".format(i), data_size = s) for i, s in enumerate(sizes)]

def _names(groups):
    return [[p.name for p in g] for g in groups]

def _grouping_impl(ctx):
    env = unittest.begin(ctx)

    # No budget, or one at least the number of packages: one layer per package.
    asserts.equals(env, [["p0"], ["p1"], ["p2"]], _names(group_packages(_pkgs(5, 5, 5), 0)))
    asserts.equals(env, [["p0"], ["p1"], ["p2"]], _names(group_packages(_pkgs(5, 5, 5), 3)))
    asserts.equals(env, [], group_packages([], 4))

    # Equal sizes split evenly, in lock order.
    asserts.equals(env, [["p0", "p1"], ["p2", "p3"]], _names(group_packages(_pkgs(1, 1, 1, 1), 2)))

    # A run closes once it holds its share of what is left: a big package ends the run it
    # joins, and the small ones after it are shared among the remaining runs.
    asserts.equals(env, [["p0", "p1", "p2"], ["p3"], ["p4"]], _names(group_packages(_pkgs(1, 1, 100, 1, 1), 3)))

    # A size of 0 (a lock without data ranges) counts as 1, so runs still balance by count.
    asserts.equals(env, [["p0", "p1"], ["p2", "p3"]], _names(group_packages(_pkgs(0, 0, 0, 0), 2)))

    # Never more runs than the budget, every package exactly once, order kept.
    for budget in [1, 2, 3, 7]:
        sizes = [3, 90, 1, 1, 40, 2, 2, 2, 60, 5, 1]
        groups = group_packages(_pkgs(*sizes), budget)
        asserts.true(env, len(groups) <= budget, "budget {}: {} runs".format(budget, len(groups)))
        flat = [p.name for g in groups for p in g]
        asserts.equals(env, ["p{}".format(i) for i in range(len(sizes))], flat)
        asserts.true(env, all([len(g) > 0 for g in groups]), "budget {}: an empty run".format(budget))

    # Equal sizes that do not divide evenly: the first share rounds down.
    asserts.equals(env, [["p0"], ["p1", "p2"], ["p3", "p4"]], _names(group_packages(_pkgs(1, 1, 1, 1, 1), 3)))

    # The last runs are never starved: with as many packages left as runs, one each.
    asserts.equals(env, [["p0"], ["p1"], ["p2", "p3"]], _names(group_packages(_pkgs(100, 1, 1, 1), 3)))
    return unittest.end(env)

grouping_test = unittest.make(_grouping_impl)

def _pkg(name, origin, size, replaces = [], version = "1.0-r0"):
    return struct(package_name = name, version = version, origin = origin, installed_size = size, replaces = replaces)

def _origin_names(packages, budget):
    groups, err = group_by_origin(packages, budget)
    if err:
        fail(err)
    return [[p.package_name for p in g] for g in groups]

def _origin_grouping_impl(ctx):
    env = unittest.begin(ctx)
    lock = [
        _pkg("busybox", "busybox", 900),
        _pkg("libcrypto3", "openssl", 400),
        _pkg("glibc", "glibc", 1000),
        _pkg("libssl3", "openssl", 300),
        _pkg("ca-certificates-bundle", "ca-certificates", 50),
        _pkg("tzdata", "tzdata", 40),
    ]

    # One group per origin, largest installed size first, packages in lock order.
    asserts.equals(env, [["glibc"], ["busybox"], ["libcrypto3", "libssl3"], ["ca-certificates-bundle"], ["tzdata"]], _origin_names(lock, 5))
    asserts.equals(env, [["glibc"], ["busybox"], ["libcrypto3", "libssl3"], ["ca-certificates-bundle"], ["tzdata"]], _origin_names(lock, 10))

    # Past the budget, the first budget-1 stay and the rest become one last group (lock order).
    asserts.equals(env, [["glibc"], ["busybox", "libcrypto3", "libssl3", "ca-certificates-bundle", "tzdata"]], _origin_names(lock, 2))
    asserts.equals(env, [["glibc"], ["busybox"], ["libcrypto3", "libssl3", "ca-certificates-bundle", "tzdata"]], _origin_names(lock, 3))
    asserts.equals(env, [["busybox", "libcrypto3", "glibc", "libssl3", "ca-certificates-bundle", "tzdata"]], _origin_names(lock, 1))

    # A package that replaces another joins its group (examples/apk_repo: wharf-motd
    # replaces wharf-baselayout's /etc/motd), whatever their order; the replacer stays after
    # the replaced package when the lock has it there, so its file wins in the spliced layer.
    example = [
        _pkg("wharf-greeting", "wharf-greeting", 40),
        _pkg("wharf-baselayout", "wharf-baselayout", 30),
        _pkg("wharf-motd", "wharf-motd", 20, replaces = ["wharf-baselayout"]),
    ]
    asserts.equals(env, [["wharf-baselayout", "wharf-motd"], ["wharf-greeting"]], _origin_names(example, 2))
    asserts.equals(env, [["wharf-greeting", "wharf-baselayout", "wharf-motd"]], _origin_names(example, 1))
    first = [_pkg("b", "b", 5, replaces = ["a"]), _pkg("c", "c", 6), _pkg("a", "a", 2)]
    asserts.equals(env, [["b", "a"], ["c"]], _origin_names(first, 4))

    # A replaces whose package is not in the image, or pinned to its exact version.
    asserts.equals(env, [["b"], ["a"]], _origin_names([_pkg("a", "a", 1), _pkg("b", "b", 2, replaces = ["gone"])], 3))
    asserts.equals(env, [["a", "b"]], _origin_names([_pkg("a", "a", 1, version = "2.0-r1"), _pkg("b", "b", 2, replaces = ["a=2.0-r1"])], 3))

    # Equal sizes: the group whose greatest package name sorts first comes first.
    asserts.equals(env, [["m"], ["x", "a"]], _origin_names([_pkg("x", "o1", 5), _pkg("m", "o2", 10), _pkg("a", "o1", 5)], 3))
    asserts.equals(env, [], _origin_names([], 3))
    return unittest.end(env)

origin_grouping_test = unittest.make(_origin_grouping_impl)

def _origin_errors_impl(ctx):
    env = unittest.begin(ctx)
    ok = [_pkg("a", "a", 1)]
    for budget in [0, -2]:
        groups, err = group_by_origin(ok, budget)
        asserts.equals(env, None, groups)
        asserts.equals(env, "layering budget is {}: origin layering needs at least 1 (apko's layering.budget; apk_layer_budget)".format(budget), err)
    _, err = group_by_origin(ok + [_pkg("hand-made", "", 1, version = "0.1-r0")], 2)
    asserts.equals(env, "package hand-made-0.1-r0 has no origin, which origin layering groups by: its .PKGINFO names none (or apk_package sets no origin)", err)
    _, err = group_by_origin(ok + [_pkg("b", "b", 1, replaces = ["a<2"])], 2)
    asserts.equals(env, "package b-1.0-r0: replaces a<2, a versioned replaces of a (in the image as a-1.0-r0), which origin layering cannot decide: name a without a version, or leave out apk_layering", err)
    _, err = group_by_origin(ok + [_pkg("b", "b", 1, replaces = ["a=0.9-r0"])], 2)
    asserts.true(env, err and err.startswith("package b-1.0-r0: replaces a=0.9-r0, a versioned replaces"), err)
    return unittest.end(env)

origin_errors_test = unittest.make(_origin_errors_impl)

def _parse_pkginfo_impl(ctx):
    env = unittest.begin(ctx)
    got = parse_pkginfo("# Generated by abuild\npkgname = libssl3\npkgver = 3.3.0-r0\norigin = openssl\nsize = 1234567\nreplaces = libressl libssl1.1\nreplaces = openssl<3\ndatahash = ab=cd\n")
    asserts.equals(env, struct(origin = "openssl", installed_size = 1234567, replaces = ["libressl", "libssl1.1", "openssl<3"]), got)
    asserts.equals(env, struct(origin = "", installed_size = 0, replaces = []), parse_pkginfo("pkgname = x\npkgver = 1-r0\n"))
    return unittest.end(env)

parse_pkginfo_test = unittest.make(_parse_pkginfo_impl)
