"""Grouping a lock's packages into layers within apk_layer_budget (pure: unit-tested)."""

def group_packages(packages, max_layers):
    """Splits packages (lock order) into at most max_layers contiguous runs of similar size.

    Contiguous, so that a package stays above every package installed before it: whoever
    wins a replaced file in apk wins it in the layers too.

    Args:
      packages: structs with `data_size` (the lock's data range), in lock order.
      max_layers: the most runs; 0 or at least len(packages): one run per package.

    Returns:
      A list of runs, each a list of packages, in order.
    """
    if max_layers <= 0 or len(packages) <= max_layers:
        return [[p] for p in packages]
    sizes = [max(p.data_size, 1) for p in packages]
    remaining = 0
    for s in sizes:
        remaining += s
    groups = []
    current = []
    acc = 0
    for i, p in enumerate(packages):
        current.append(p)
        acc += sizes[i]
        left_groups = max_layers - len(groups) - 1
        left_packages = len(packages) - i - 1
        target = remaining // (left_groups + 1)
        if left_groups > 0 and (acc >= target or left_packages == left_groups):
            groups.append(current)
            remaining -= acc
            current = []
            acc = 0
    if current:
        groups.append(current)
    return groups

def parse_pkginfo(text):
    """What origin layering needs from a .PKGINFO: origin, installed size, replaces.

    Args:
      text: the .PKGINFO ("key = value" lines; "#" starts a comment).

    Returns:
      struct(origin, installed_size, replaces): "" and 0 for a missing origin or size.
    """
    origin, size, replaces = "", 0, []
    for line in text.split("\n"):
        if line.startswith("#") or "=" not in line:
            continue
        k, _, v = line.partition("=")
        k, v = k.strip(), v.strip()
        if k == "origin":
            origin = v
        elif k == "size" and v.isdigit():
            size = int(v)
        elif k == "replaces":
            replaces.extend([w for w in v.replace("\t", " ").split(" ") if w])
    return struct(origin = origin, installed_size = size, replaces = replaces)

def _label(p):
    return "{}-{}".format(p.package_name, p.version)

def _replaced(p, rep, by_name):
    """The package `rep` (an entry of p's replaces) names in the image, or None: (index, error)."""
    name, op = rep, ""
    for i in range(len(rep)):
        if rep[i] in "=<>~":
            name, op = rep[:i], rep[i:]
            break
    if name not in by_name:
        return None, None  # not in the image: nothing to merge, as in apko
    i, q = by_name[name]
    if op and op != "=" + q.version:
        # apko checks the version with apk's rules; only the exact pin is decided here.
        return None, "package {}: replaces {}, a versioned replaces of {} (in the image as {}), which origin layering cannot decide: name {} without a version, or leave out apk_layering".format(_label(p), rep, name, _label(q), name)
    return i, None

def group_by_origin(packages, budget):
    """Groups packages into layers as apko v1.2.39's `layering: {strategy: origin}` does.

    apko (pkg/build/layers.go, groupByOriginAndSize) puts packages of one origin together,
    joins groups whose packages replace each other, orders the groups by installed size
    (largest first; equal sizes by their greatest package name), keeps the first budget-1
    and merges the rest into one last group. A file two packages ship is thus always in one
    group (apk lets a package overwrite another's file only within its origin or through
    replaces), so within a group the packages stay in lock order: the later one's file wins,
    as in apk.

    Args:
      packages: structs with package_name, version, origin, installed_size and replaces,
        in lock order.
      budget: layering.budget: the most groups (at least 1).

    Returns:
      (groups, error): the groups, each a list of packages in lock order, or an error.
    """
    if budget < 1:
        return None, "layering budget is {}: origin layering needs at least 1 (apko's layering.budget; apk_layer_budget)".format(budget)
    by_name, by_origin, group_of, members = {}, {}, [], {}
    for i, p in enumerate(packages):
        if not p.origin:
            return None, "package {} has no origin, which origin layering groups by: its .PKGINFO names none (or apk_package sets no origin)".format(_label(p))
        by_name[p.package_name] = (i, p)
        gid = by_origin.setdefault(p.origin, i)
        group_of.append(gid)
        members.setdefault(gid, []).append(i)
    for i, p in enumerate(packages):
        for rep in p.replaces:
            j, err = _replaced(p, rep, by_name)
            if err:
                return None, err
            if j == None or group_of[i] == group_of[j]:
                continue
            keep, gone = group_of[i], group_of[j]
            for k in members.pop(gone):
                group_of[k] = keep
                members[keep].append(k)
    return _by_size(packages, members.values(), budget), None

def _by_size(packages, groups, budget):
    """Orders groups (lists of indices) as apko does and merges those past budget-1."""
    ranked = []
    for g in groups:
        size = 0
        for i in g:
            size += packages[i].installed_size
        ranked.append((-size, max([packages[i].package_name for i in g]), sorted(g)))
    kept = [r[2] for r in sorted(ranked)]
    if len(kept) > budget:
        kept = kept[:budget - 1] + [sorted([i for g in kept[budget - 1:] for i in g])]
    return [[packages[i] for i in g] for g in kept]
