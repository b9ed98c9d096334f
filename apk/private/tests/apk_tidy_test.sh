#!/usr/bin/env bash
# apk_tidy's launcher runs `wharf tidy` on the workspace `bazel run` names: outside
# `bazel run` it says how to run it; in a workspace with a lock it adds the entry, says so,
# and a --check run afterwards passes.
set -euo pipefail
launcher="$PWD/$1"

if out=$(env -u BUILD_WORKSPACE_DIRECTORY "$launcher" 2>&1); then
  echo "ran without BUILD_WORKSPACE_DIRECTORY: $out" >&2
  exit 1
fi
want="//apk/private/tests:apk_tidy_under_test: run me with \`bazel run @@//apk/private/tests:apk_tidy_under_test\` (I edit MODULE.bazel in the source tree)"
[[ "$out" == *"$want"* ]] || { echo "got: $out"$'\n'"want: $want" >&2; exit 1; }

ws="$TEST_TMPDIR/ws"
mkdir -p "$ws/app"
echo 'module(name = "m")' > "$ws/MODULE.bazel"
touch "$ws/app/BUILD.bazel"
echo '{}' > "$ws/app/apko.lock.json"
out=$(BUILD_WORKSPACE_DIRECTORY="$ws" "$launcher" 2>&1)
want='MODULE.bazel: added apk.translate_lock(name = "apko_app", lock = "//app:apko.lock.json") and use_repo "apko_app": app/apko.lock.json had none'
[[ "$out" == *"$want"* ]] || { echo "got: $out"$'\n'"want: $want" >&2; exit 1; }
grep -q 'use_repo(apk, "apko_app")' "$ws/MODULE.bazel" || { cat "$ws/MODULE.bazel" >&2; exit 1; }
out=$(BUILD_WORKSPACE_DIRECTORY="$ws" "$launcher" --check 2>&1)
[[ "$out" == *"in step with the 1 apko.lock.json files"* ]] || { echo "second run: $out" >&2; exit 1; }
