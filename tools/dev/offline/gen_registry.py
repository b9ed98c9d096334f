#!/usr/bin/env python3
"""Writes a file:// Bazel module registry whose entries point (source.json type
"local_path") at module trees already on disk.

Each module has one tree, but is registered under every version that any module of the
set asks for with a (non-dev) bazel_dep, plus its own: bzlmod reads MODULE.bazel of every
requested name@version, so discovery never misses and selection always lands on that tree.

usage: gen_registry.py REGISTRY_DIR SPEC_FILE
SPEC_FILE lines: <module> <abs-source-dir> <version> [more versions...]
"""
import json
import os
import re
import shutil
import sys

# bazel_tools' own dependencies are requested too.
EXTRA_SCAN = ["/usr/share/bazel/embedded_tools/MODULE.bazel"]


def calls(text, fname):
    """Yields (start, end, args) of each top-level call `fname(...)` in Starlark text."""
    for m in re.finditer(r"(?m)^[ \t]*" + fname + r"\s*\(", text):
        i, depth = m.end(), 1
        while i < len(text) and depth:
            c = text[i]
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif c == '"':
                i = text.index('"', i + 1)
            elif c == "#":
                nl = text.find("\n", i)
                i = nl if nl >= 0 else len(text)
            i += 1
        yield m.start(), i, text[m.end():i - 1]


def kwarg(args, key):
    m = re.search(r"\b" + key + r'\s*=\s*"([^"]*)"', args)
    return m.group(1) if m else None


def version_key(v):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-+]", v)]


def with_version(text, version):
    for start, end, args in calls(text, "module"):
        call = text[start:end]
        if re.search(r"\bversion\s*=", args):
            call = re.sub(r'\bversion\s*=\s*"[^"]*"', 'version = "%s"' % version, call, count=1)
        else:
            call = re.sub(r"module\s*\(", 'module(\n    version = "%s",' % version, call, count=1)
        return text[:start] + call + text[end:]
    raise SystemExit("no module() call")


def main():
    registry, spec_file = sys.argv[1], sys.argv[2]
    modules = {}
    for line in open(spec_file):
        f = line.split("#")[0].split()
        if f:
            modules[f[0]] = {"src": f[1], "versions": set(f[2:])}

    for path in [os.path.join(m["src"], "MODULE.bazel") for m in modules.values()] + EXTRA_SCAN:
        if not os.path.exists(path):
            continue
        for _, _, args in calls(open(path).read(), "bazel_dep"):
            if re.search(r"dev_dependency\s*=\s*True", args):
                continue
            name, version = kwarg(args, "name"), kwarg(args, "version")
            if name in modules and version:
                modules[name]["versions"].add(version)

    tmp = registry + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "modules"))
    with open(os.path.join(tmp, "bazel_registry.json"), "w") as f:
        json.dump({"mirrors": [], "module_base_path": "/"}, f, indent=2)
    for name, m in sorted(modules.items()):
        text = open(os.path.join(m["src"], "MODULE.bazel")).read()
        versions = sorted(m["versions"], key=version_key)
        for v in versions:
            d = os.path.join(tmp, "modules", name, v)
            os.makedirs(d)
            with open(os.path.join(d, "MODULE.bazel"), "w") as f:
                f.write(with_version(text, v))
            with open(os.path.join(d, "source.json"), "w") as f:
                json.dump({"type": "local_path", "path": m["src"]}, f, indent=2)
        with open(os.path.join(tmp, "modules", name, "metadata.json"), "w") as f:
            json.dump({"homepage": "", "maintainers": [], "versions": versions, "yanked_versions": {}}, f, indent=2)
        print("  %-17s %-42s %s" % (name, m["src"], " ".join(versions)))
    shutil.rmtree(registry, ignore_errors=True)
    os.rename(tmp, registry)


if __name__ == "__main__":
    main()
