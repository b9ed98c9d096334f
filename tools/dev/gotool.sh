#!/usr/bin/env bash
# tools/dev/gotool.sh NAME MODULE VERSION PACKAGE [OLD=NEW@V ...] -- builds the Go command
# PACKAGE of MODULE at VERSION into $WHARF_CACHE/bin/NAME, once: $WHARF_CACHE/bin/.NAME-version
# names the version built (and the replacements). Each OLD=NEW@V is a `go mod edit -replace`
# the build needs (apko v1.2.39 requires a go-erofs version that does not build). A throw-away
# module pins the version with `go get`, as `go install X@v` asks the module proxy for the
# version list, which it may refuse. Quiet when NAME is there; the
# build's output is kept in $WHARF_CACHE/bin/.NAME.log and shown when it fails.
set -euo pipefail
[ $# -ge 4 ] || {
  echo "usage: $0 NAME MODULE VERSION PACKAGE [OLD=NEW@V ...]" >&2
  exit 2
}
name=$1 module=$2 version=$3 pkg=$4
shift 4
replaces=("$@")
stamp="$version${replaces[*]:+ ${replaces[*]}}"
BIN=${WHARF_CACHE:-$HOME/.cache/rules_wharf}/bin
if [ "$(cat "$BIN/.$name-version" 2>/dev/null)" = "$stamp" ] && [ -x "$BIN/$name" ]; then
  exit 0
fi
GO=$(command -v go || echo /usr/local/go/bin/go)
mkdir -p "$BIN"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$BIN/.$name.log t0=$SECONDS
echo "[gotool] building $name $stamp" >&2
edits=()
for r in "${replaces[@]}"; do edits+=("-replace=$r"); done
if ! (
  # One chain: set -e does not hold inside an if's condition.
  cd "$tmp" && printf 'module tool\n\ngo 1.25\n' >go.mod &&
    { [ ${#edits[@]} = 0 ] || "$GO" mod edit "${edits[@]}"; } &&
    GOFLAGS=-mod=mod "$GO" get "$module@$version" &&
    CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" build -trimpath -o "$BIN/$name.tmp" "$pkg"
) >"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "[gotool] building $name $version ($pkg) failed; log: $log" >&2
  exit 1
fi
mv -f "$BIN/$name.tmp" "$BIN/$name"
echo "$stamp" >"$BIN/.$name-version"
echo "[gotool] built $name $stamp in $((SECONDS - t0)) s" >&2
