#!/usr/bin/env bash
# Copies freshly generated stardoc output over docs/*.md (run via `bazel run //docs:update`).
set -euo pipefail
for f in "$@"; do
  name=$(basename "$f" .gen.md)
  cp -f "$f" "$BUILD_WORKSPACE_DIRECTORY/docs/$name.md"
  chmod 644 "$BUILD_WORKSPACE_DIRECTORY/docs/$name.md"
  echo "updated docs/$name.md"
done
