"""Whether Bazel stamps (`--stamp`), for rules with a `stamp` attribute (-1/0/1)."""

StampSettingInfo = provider(
    doc = "Whether `--stamp` is on in this configuration.",
    fields = {"value": "bool: --stamp given"},
)

def _stamp_setting_impl(ctx):
    return [StampSettingInfo(value = ctx.attr.value)]

stamp_setting = rule(
    implementation = _stamp_setting_impl,
    doc = "Carries a select() on the `--stamp` config_setting to rules as a provider.",
    attrs = {"value": attr.bool(doc = "Whether stamping is on (selected on the `stamp` config_setting).")},
)

STAMP_ATTRS = {
    "stamp": attr.int(
        doc = "Whether to expand `{KEY}` placeholders from the workspace status: 1 always, 0 never, -1 (default) when Bazel runs with `--stamp`.",
        default = -1,
        values = [-1, 0, 1],
    ),
    "_stamp_setting": attr.label(
        doc = "Whether `--stamp` is on.",
        default = Label("//oci/private/rules:stamp_detect"),
        providers = [StampSettingInfo],
    ),
}

def should_stamp(ctx):
    """Whether to stamp: the rule's `stamp`, or with -1 the `--stamp` flag.

    Args:
      ctx: the context of a rule with STAMP_ATTRS.

    Returns:
      bool.
    """
    if ctx.attr.stamp == -1:
        return ctx.attr._stamp_setting[StampSettingInfo].value
    return ctx.attr.stamp == 1

def stamp_status(ctx, values, files):
    """The workspace status files an action expanding `{KEY}` in `values` or `files` reads.

    Only when stamping and something may hold a placeholder: an action that reads the
    volatile status reruns on every stamped build, so no other action gets it.

    Args:
      ctx: the context of a rule with STAMP_ATTRS.
      values: list of string, the values that may hold `{KEY}`.
      files: list of File whose lines may hold `{KEY}`.

    Returns:
      list of File: stable then volatile status, or empty.
    """
    if not should_stamp(ctx):
        return []
    if not files and not [v for v in values if "{" in v]:
        return []

    # Volatile (version_file) first: a key in both files takes the stable value.
    return [ctx.version_file, ctx.info_file]
