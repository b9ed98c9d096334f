"""Unit tests of apk_layer_budget's grouping: contiguous runs in lock order, balanced by size."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//apk/private:grouping.bzl", "group_packages")

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
