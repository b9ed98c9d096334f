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
