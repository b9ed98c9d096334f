"""How labels appear in what rules_wharf writes (image history, push summaries)."""

def label_text(label):
    """`label` as written in the main repository's BUILD files.

    `//pkg:name` for the main repository whether Bazel runs with bzlmod (which prints
    `@@//pkg:name`) or WORKSPACE (`@//pkg:name`), so an image's bytes do not depend on which
    one built it; labels of other repositories as Bazel prints them.

    Args:
      label: a Label.

    Returns:
      The text.
    """
    if not label.workspace_name:
        return "//{}:{}".format(label.package, label.name)
    return str(label)
