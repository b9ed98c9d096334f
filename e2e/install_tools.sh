#!/usr/bin/env bash
# Installs what the end-to-end test uses, idempotently: a registry (Debian's
# docker-registry, htpasswd from apache2-utils), umoci, runc, podman and skopeo from apt, crane,
# syft and apko (pinned) built with the host Go (syft: about 4 minutes the first time, apko
# about 2), and bazel-remote (e2e/rbe/provision.sh).
# Prints nothing when everything is present. Tools land in $WHARF_CACHE/bin.
set -euo pipefail
CACHE=${WHARF_CACHE:-$HOME/.cache/rules_wharf}
BIN=$CACHE/bin
CRANE_VERSION=v0.22.1
SYFT_VERSION=v1.38.0
# The apko the equivalence tests compare with (tools/internal/apk/apktest/apkooracle), also
# what TestMigratingFromRulesApko runs as Renovate's apko manager does.
APKO_VERSION=v0.30.34
mkdir -p "$BIN"

need=()
for p in docker-registry:docker-registry htpasswd:apache2-utils umoci:umoci runc:runc podman:podman skopeo:skopeo; do
  command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "[install_tools] apt-get install ${need[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "$(cat "$BIN/.crane-version" 2>/dev/null)" != "$CRANE_VERSION" ] || [ ! -x "$BIN/crane" ]; then
  echo "[install_tools] building crane $CRANE_VERSION" >&2
  GO=$(command -v go || echo /usr/local/go/bin/go)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (
    cd "$tmp"
    printf 'module tool\n\ngo 1.25\n' >go.mod
    # `go install X@v` asks the proxy for the version list, which it may refuse: pin instead.
    GOFLAGS=-mod=mod "$GO" get "github.com/google/go-containerregistry@$CRANE_VERSION" >/dev/null 2>&1
    CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" build -trimpath -o "$BIN/crane" github.com/google/go-containerregistry/cmd/crane
  )
  echo "$CRANE_VERSION" >"$BIN/.crane-version"
fi

if [ "$(cat "$BIN/.syft-version" 2>/dev/null)" != "$SYFT_VERSION" ] || [ ! -x "$BIN/syft" ]; then
  echo "[install_tools] building syft $SYFT_VERSION (a few minutes)" >&2
  GO=$(command -v go || echo /usr/local/go/bin/go)
  tmp=$(mktemp -d)
  (
    cd "$tmp"
    printf 'module tool\n\ngo 1.25\n' >go.mod
    GOFLAGS=-mod=mod "$GO" get "github.com/anchore/syft@$SYFT_VERSION" >/dev/null 2>&1
    CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" build -trimpath -o "$BIN/syft" github.com/anchore/syft/cmd/syft
  ) || { rm -rf "$tmp"; exit 1; }
  rm -rf "$tmp"
  echo "$SYFT_VERSION" >"$BIN/.syft-version"
fi

if ! "$BIN/apko" version 2>/dev/null | grep -q "$APKO_VERSION"; then
  echo "[install_tools] building apko $APKO_VERSION (about two minutes)" >&2
  GO=$(command -v go || echo /usr/local/go/bin/go)
  tmp=$(mktemp -d)
  (
    cd "$tmp"
    printf 'module tool\n\ngo 1.25\n' >go.mod
    GOFLAGS=-mod=mod "$GO" get "chainguard.dev/apko@$APKO_VERSION" >/dev/null 2>&1
    CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" build -trimpath -o "$BIN/apko.tmp" chainguard.dev/apko
  ) || { rm -rf "$tmp"; exit 1; }
  rm -rf "$tmp"
  mv "$BIN/apko.tmp" "$BIN/apko"
fi

# bazel-remote, the remote cache the push tests take layers from (built once, ~2.5 min).
"$(dirname "$0")/rbe/provision.sh" bazel-remote
