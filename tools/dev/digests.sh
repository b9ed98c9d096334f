#!/usr/bin/env bash
# tools/dev/digests.sh [BAZEL_FLAGS...] -- prints every image and index digest and every SBOM's
# sha256 that `bazel build //examples/... //tests/...` makes, one "PATH DIGEST" line each, sorted.
# A refactor must not change a line: run it before and after and diff the two outputs.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/bazel build --output_groups=+sbom "$@" //examples/... //tests/... >&2
bin=$(tools/bazel info bazel-bin "$@" 2>/dev/null)
cd "$bin"
find . \( -name '*.digest' -o -name '*.spdx.json' \) -type f | LC_ALL=C sort | while read -r f; do
  case "$f" in
  *.digest) echo "${f#./} $(cat "$f")" ;;
  *) echo "${f#./} sha256:$(sha256sum "$f" | cut -d' ' -f1)" ;;
  esac
done
