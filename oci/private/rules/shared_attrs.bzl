"""The common attributes a macro's companion targets take over from the target they serve."""

# Common attributes a companion target (`<name>.verify`, `<name>.explain`,
# `<name>_apk_contents`, ...) shares with its main target, so that it is built, skipped or
# restricted alike. `visibility` is not among them: each macro chooses its companions'.
_SHARED = ["compatible_with", "exec_compatible_with", "features", "restricted_to", "tags", "target_compatible_with", "testonly"]

def shared_attrs(kwargs):
    """The common attributes of a macro's `kwargs` that its companion targets share.

    Args:
      kwargs: the macro's keyword arguments.

    Returns:
      A dict of those of `_SHARED` that `kwargs` sets.
    """
    return {k: kwargs[k] for k in _SHARED if k in kwargs}
