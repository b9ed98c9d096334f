#!/usr/bin/env bash
# e2e/rbe/provision.sh -- build the REAPI servers e2e/rbe/run.sh needs, once, with plain `go build`
# from the Go module proxy (no Bazel, no protoc):
#   bazel-remote v2.6.1                       (remote cache)      -> $RBE/bin/bazel-remote
#   Buildbarn bb_storage/scheduler/worker/runner (remote executor) -> $RBE/bin/bb_*
# RBE=${WHARF_CACHE:-$HOME/.cache/rules_wharf}/rbe. Idempotent: a stamp per versioned build.
# Usage: e2e/rbe/provision.sh [bazel-remote|buildbarn ...]   (default: both)
set -euo pipefail

CACHE=${WHARF_CACHE:-$HOME/.cache/rules_wharf}
RBE=$CACHE/rbe
BIN=$RBE/bin
GO=$(command -v go || echo /usr/local/go/bin/go)
[ -x "$GO" ] || {
  echo "provision.sh: needs Go (go on PATH or /usr/local/go)" >&2
  exit 1
}

BAZEL_REMOTE_VERSION=v2.6.1
# The pair pinned together by buildbarn/bb-deployments (Dec 2024); the config files in
# e2e/rbe/buildbarn/ are written for this pair's format.
BB_REMOTE_EXECUTION_VERSION=v0.0.0-20241215094620-d03d5e3708ed
BB_STORAGE_VERSION=v0.0.0-20241212082716-078d9d76e0f0
GO_FUSE_VERSION=v2.5.1

build_bazel_remote() {
  local stamp=$BIN/.bazel-remote-$BAZEL_REMOTE_VERSION.ok
  [ -e "$stamp" ] && [ -x "$BIN/bazel-remote" ] && return 0
  echo "provision: building bazel-remote $BAZEL_REMOTE_VERSION (a few minutes, once)" >&2
  local work=$RBE/src/bazel-remote
  rm -rf "$work"
  mkdir -p "$work" "$BIN"
  (
    cd "$work"
    # The checksum database has no entry for one genproto pseudo-version bazel-remote needs.
    export GONOSUMDB=${GONOSUMDB:-google.golang.org/genproto} GOFLAGS="-mod=mod -buildvcs=false"
    printf 'module rbetools/bazelremote\n\ngo 1.23\n' >go.mod
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/buchgr/bazel-remote/v2"\n' >tools.go
    "$GO" get "github.com/buchgr/bazel-remote/v2@$BAZEL_REMOTE_VERSION"
    "$GO" build -o "$BIN/bazel-remote.tmp" github.com/buchgr/bazel-remote/v2
  )
  mv -f "$BIN/bazel-remote.tmp" "$BIN/bazel-remote"
  touch "$stamp"
}

build_buildbarn() {
  local stamp=$BIN/.buildbarn-$BB_REMOTE_EXECUTION_VERSION-$BB_STORAGE_VERSION.ok
  if [ -e "$stamp" ]; then
    local ok=1 b
    for b in bb_storage bb_scheduler bb_worker bb_runner; do [ -x "$BIN/$b" ] || ok=0; done
    [ "$ok" = 1 ] && return 0
  fi
  echo "provision: building Buildbarn (bb_storage, bb_scheduler, bb_worker, bb_runner; ~4 min, once)" >&2
  local work=$RBE/src/buildbarn
  rm -rf "$work"
  mkdir -p "$work" "$BIN/buildbarn.tmp"
  (
    cd "$work"
    # The checksum database answers 404 for Buildbarn's pseudo-versions.
    export GONOSUMDB=${GONOSUMDB:-github.com/buildbarn,github.com/aegistudio} GOFLAGS="-mod=mod -buildvcs=false"
    printf 'module rbetools/buildbarn\n\ngo 1.23.0\n' >go.mod
    cat >tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "github.com/buildbarn/bb-remote-execution/cmd/bb_runner"
	_ "github.com/buildbarn/bb-remote-execution/cmd/bb_scheduler"
	_ "github.com/buildbarn/bb-remote-execution/cmd/bb_worker"
	_ "github.com/buildbarn/bb-storage/cmd/bb_storage"
)
EOF
    "$GO" get "github.com/buildbarn/bb-remote-execution@$BB_REMOTE_EXECUTION_VERSION" \
      "github.com/buildbarn/bb-storage@$BB_STORAGE_VERSION"
    "$GO" mod tidy
    local bre bbs modcache bs
    bre=$("$GO" list -m -f '{{.Dir}}' github.com/buildbarn/bb-remote-execution)
    bbs=$("$GO" list -m -f '{{.Dir}}' github.com/buildbarn/bb-storage)
    modcache=$("$GO" env GOMODCACHE)
    # Buildbarn's own Bazel build patches two Go dependencies; do the same with patched local
    # copies and `replace`:
    # 1) go-fuse v2.5.1 + bb-remote-execution's patches (bb_worker needs
    #    fuse.ReadDirPlusEntryList / fuse.ServerCallbacks);
    # 2) genproto bytestream: RegisterByteStreamServer takes a grpc.ServiceRegistrar (bb_storage).
    "$GO" mod download "github.com/hanwen/go-fuse/v2@$GO_FUSE_VERSION"
    bs=$("$GO" list -m -f '{{.Version}}' google.golang.org/genproto/googleapis/bytestream)
    mkdir -p third_party
    cp -r "$modcache/github.com/hanwen/go-fuse/v2@$GO_FUSE_VERSION" third_party/go-fuse
    cp -r "$modcache/google.golang.org/genproto/googleapis/bytestream@$bs" third_party/bytestream
    chmod -R u+w third_party
    local p
    for p in direntrylist-offsets-and-testability writeback-cache notify-testability; do
      (cd third_party/go-fuse && patch -p0 -s <"$bre/patches/com_github_hanwen_go_fuse_v2/$p.diff")
    done
    (cd third_party/bytestream &&
      patch -p0 -s <"$bbs/patches/org_golang_google_genproto_googleapis_bytestream/service-registrar.diff")
    "$GO" mod edit -replace github.com/hanwen/go-fuse/v2=./third_party/go-fuse \
      -replace google.golang.org/genproto/googleapis/bytestream=./third_party/bytestream
    "$GO" mod tidy
    "$GO" build -o "$BIN/buildbarn.tmp/" \
      github.com/buildbarn/bb-remote-execution/cmd/bb_runner \
      github.com/buildbarn/bb-remote-execution/cmd/bb_scheduler \
      github.com/buildbarn/bb-remote-execution/cmd/bb_worker \
      github.com/buildbarn/bb-storage/cmd/bb_storage
  )
  mv -f "$BIN"/buildbarn.tmp/bb_* "$BIN/"
  rmdir "$BIN/buildbarn.tmp"
  touch "$stamp"
}

[ $# -gt 0 ] || set -- bazel-remote buildbarn
for what in "$@"; do
  case "$what" in
  bazel-remote) build_bazel_remote ;;
  buildbarn) build_buildbarn ;;
  *)
    echo "provision.sh: unknown component $what (bazel-remote|buildbarn)" >&2
    exit 2
    ;;
  esac
done
