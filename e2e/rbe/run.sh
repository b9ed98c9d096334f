#!/usr/bin/env bash
# e2e/rbe/run.sh -- rules_wharf under a real REAPI remote executor and remote cache.
#
# Provisions (once, e2e/rbe/provision.sh) bazel-remote and Buildbarn under
# ${WHARF_CACHE:-$HOME/.cache/rules_wharf}/rbe, starts them on 127.0.0.1 with fresh storage,
# stops them on exit, and checks, with its own Bazel output base ($RBE/output_base/<checkout>):
#   a. remote execution (Buildbarn, --remote_executor=grpc://127.0.0.1:28980): every non-internal
#      action runs remotely -- the summary counts only "remote" and "internal" processes and the
#      execution log shows runner "remote" for every rules_wharf action (which declare
#      supports-(multiplex-)workers) -- and the image digests equal those of a local build;
#   b. remote cache only (bazel-remote, --remote_cache=grpc://127.0.0.1:19092): a build that
#      executes every action locally (no cache hit: the cache is empty) is the local reference;
#      after `bazel clean` the same build is all remote cache hits with equal digests;
#   a2. `bazel run` of an oci_push after a Buildbarn build under --remote_download_minimal takes
#      every layer from the executor's CAS and pushes the local build's digest;
#   c. --remote_download_minimal vs --remote_download_all, both after `bazel clean` against the
#      warm cache: bytes under bazel-out (du -sb) and wall time; minimal must download less, and
#      `bazel run` of an image-consuming target still works under minimal.
# Exits non-zero on any failed check. Needs: go (to build the servers), curl, jq, and Bazel
# through tools/bazel. Knobs: RBE_TARGETS (default //examples/...), RBE_KEEP=1 (leave the
# servers running and print how to stop them).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
CACHE=${WHARF_CACHE:-$HOME/.cache/rules_wharf}
RBE=$CACHE/rbe
BIN=$RBE/bin
STATE=$RBE/state # servers' storage, logs, pids: wiped on every run
# One output base per checkout, as Bazel's default is: repositories of a lock of file paths
# symlink to the checkout's files, so an output base shared by two checkouts keeps links into
# the first one (seen: a deleted worktree's path, "missing input file").
OB=$RBE/output_base/$(printf %s "$repo" | sha256sum | cut -c1-12)
LOGS=$RBE/logs
TARGETS=${RBE_TARGETS:-//examples/...}
# Images whose digests are compared (their *.digest files in bazel-bin/examples/hello_image).
DIGEST_PKG=examples/hello_image
# rules_wharf's actions (mnemonics) that must run remotely; the first six must occur.
REQUIRED_MNEMONICS="ApkExtract ApkVerify ApkInstallDb OciImage OciLayer OciIndex"
WHARF_MNEMONICS="$REQUIRED_MNEMONICS ApkLayerGroup ApkoLayer Sbom SbomIndex OciLayout OciLayoutImport DockerTarball"

RE_ENDPOINT=grpc://127.0.0.1:28980
RC_ENDPOINT=grpc://127.0.0.1:19092
BR_HTTP=127.0.0.1:18080
BB_SCHEDULER_PAGE=http://127.0.0.1:27982/

fail() {
  echo "e2e/rbe: FAIL: $*" >&2
  exit 1
}
log() { echo "=== e2e/rbe: $*" >&2; }
# A failed comparison is recorded and the run goes on, so the summary still prints; the exit
# status is non-zero at the end.
FAILURES=()
check_fail() {
  echo "e2e/rbe: FAIL: $*" >&2
  FAILURES+=("$*")
}
for t in curl jq; do command -v "$t" >/dev/null || fail "needs $t on PATH"; done

"$here/provision.sh" bazel-remote buildbarn

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- servers -------------------------------------------------------------------------------
pids=()
stop_servers() {
  local i p
  # reverse start order: the worker first (it needs 2-6 s to exit), storage last
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[$i]}
    kill -0 "$p" 2>/dev/null || continue
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 75); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null || true
  done
  pids=()
}
bazel_up=0
cleanup() {
  local rc=$?
  if [ "$bazel_up" = 1 ]; then bzl shutdown >/dev/null 2>&1 || true; fi
  if [ "${RBE_KEEP:-0}" = 1 ] && [ ${#pids[@]} -gt 0 ]; then
    echo "e2e/rbe: servers left running (RBE_KEEP=1): kill ${pids[*]}" >&2
  else
    stop_servers
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # NAME BINARY ARGS... (log: $STATE/logs/NAME.log)
  local name=$1 logf=$STATE/logs/$1.log
  shift
  nohup "$@" >"$logf" 2>&1 &
  pids+=($!)
  echo "$!" >"$STATE/pids/$name.pid"
}

for p in 28980 28981 28982 28983 27982 19092 18080; do
  port_open "$p" && fail "127.0.0.1:$p is in use (another run of e2e/rbe/run.sh, or RBE_KEEP=1 servers?)"
done
rm -rf "$STATE"
mkdir -p "$STATE/logs" "$STATE/pids" "$STATE/bazel-remote" \
  "$STATE/bb/storage-ac/persistent_state" "$STATE/bb/storage-cas/persistent_state" \
  "$STATE/bb/worker/build" "$STATE/bb/worker/cache" "$LOGS" "$OB"

log "starting bazel-remote ($RC_ENDPOINT) and Buildbarn ($RE_ENDPOINT)"
start bazel-remote "$BIN/bazel-remote" --dir "$STATE/bazel-remote" --max_size 5 \
  --grpc_address 127.0.0.1:19092 --http_address "$BR_HTTP"
# Buildbarn's jsonnet reads BB_STATE via std.extVar (Buildbarn passes the environment).
export BB_STATE=$STATE/bb
for c in storage:bb_storage frontend:bb_storage scheduler:bb_scheduler runner:bb_runner worker:bb_worker; do
  start "bb-${c%%:*}" "$BIN/${c#*:}" "$here/buildbarn/${c%%:*}.jsonnet"
done
ready=0
for _ in $(seq 1 100); do
  # the scheduler page lists the worker's platform queue (instance name "") once it registered
  if curl -sf "http://$BR_HTTP/status" >/dev/null &&
    port_open 28980 && curl -s "$BB_SCHEDULER_PAGE" | grep -q '&#34;&#34;'; then
    ready=1
    break
  fi
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || fail "a server exited at start; see $STATE/logs"; done
  sleep 0.2
done
[ "$ready" = 1 ] || fail "servers not ready after 20 s; see $STATE/logs"

# ---- Bazel ---------------------------------------------------------------------------------
cd "$repo"
# $RBE must be visible (same path) inside tools/bazel's chroot: output base and logs live there.
bzl() { WHARF_BIND="${WHARF_BIND:-} $RBE" "$repo/tools/bazel" --output_base="$OB" "$@"; }
# --disk_cache= : tools/bazel's rc enables a shared disk cache; it would answer before the
# remote services. --symlink_prefix=/ : no bazel-* symlinks (the checkout's own stay intact).
COMMON=(--color=no --curses=no --disk_cache= --symlink_prefix=/)

# build NAME FLAGS... : logs to $LOGS/NAME.log, the execution log to $LOGS/NAME.exec.json;
# sets WALL (seconds) and SUMMARY (the "N processes: ..." line).
build() {
  local name=$1
  shift
  local t0 t1
  rm -f "$LOGS/$name.log" "$LOGS/$name.exec.json"
  log "bazel build $TARGETS $* ($name)"
  t0=$(date +%s.%N)
  if ! bzl build "${COMMON[@]}" --execution_log_json_file="$LOGS/$name.exec.json" "$@" $TARGETS \
    >"$LOGS/$name.log" 2>&1; then
    tail -40 "$LOGS/$name.log" >&2
    fail "build $name failed (log: $LOGS/$name.log)"
  fi
  t1=$(date +%s.%N)
  WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  SUMMARY=$(grep -E '^INFO: [0-9]+ process(es)?: ' "$LOGS/$name.log" | tail -1 | sed 's/^INFO: //')
  [ -n "$SUMMARY" ] || fail "no process summary in $LOGS/$name.log"
  echo "    $SUMMARY  [${WALL}s]" >&2
}
# count KIND : processes of that kind in $SUMMARY ("12 remote cache hit" -> 12), 0 if absent.
count() {
  local s=${SUMMARY#*: }
  s=${s%.}
  echo "$s" | tr ',' '\n' | sed 's/^ *//' |
    awk -v k="$1" '{n=$1; $1=""; sub(/^ /, ""); if ($0 == k) c=n} END{print c+0}'
}
# kinds other than the allowed ones, from $SUMMARY
other_kinds() {
  local s=${SUMMARY#*: }
  s=${s%.}
  echo "$s" | tr ',' '\n' | sed 's/^ *//' | sed -E 's/^[0-9]+ //' | grep -vxF -e internal "$@" || true
}
digests() { # OUTFILE : "name digest" of every image/index digest file
  local bin f
  bin=$(bzl info "${COMMON[@]}" bazel-bin 2>/dev/null)
  : >"$1"
  for f in "$bin/$DIGEST_PKG"/*.digest; do
    [ -e "$f" ] || fail "no $DIGEST_PKG/*.digest files in $bin"
    echo "$(basename "$f") $(cat "$f")" >>"$1"
  done
}
bazel_out_bytes() { du -sb "$OB/execroot/_main/bazel-out" 2>/dev/null | cut -f1; }

bazel_up=1
# First build in this output base also fetches the external repositories: do that up front
# so it is not counted in any timing.
log "fetching external repositories (output base $OB)"
bzl fetch --color=no --curses=no $TARGETS >"$LOGS/fetch.log" 2>&1 || {
  tail -40 "$LOGS/fetch.log" >&2
  fail "bazel fetch failed"
}

# b1. local reference: remote cache empty, so every action executes locally (and is uploaded).
bzl clean >/dev/null 2>&1
build cache-cold --remote_cache="$RC_ENDPOINT"
RC_COLD_SUMMARY=$SUMMARY RC_COLD_WALL=$WALL
[ "$(count 'remote cache hit')" = 0 ] || fail "cache-cold: remote cache hits in a fresh cache: $SUMMARY"
[ "$(count remote)" = 0 ] || fail "cache-cold: remote executions without an executor: $SUMMARY"
digests "$LOGS/digests.local"

# b2. after clean: every action is a remote cache hit.
bzl clean >/dev/null 2>&1
build cache-warm --remote_cache="$RC_ENDPOINT"
RC_WARM_SUMMARY=$SUMMARY RC_WARM_WALL=$WALL
hits=$(count 'remote cache hit')
[ "$hits" -gt 0 ] || fail "cache-warm: no remote cache hits: $SUMMARY"
bad=$(other_kinds -e 'remote cache hit')
[ -z "$bad" ] || fail "cache-warm: not every action was a remote cache hit ($bad): $SUMMARY"
digests "$LOGS/digests.cache"
diff -u "$LOGS/digests.local" "$LOGS/digests.cache" || check_fail "digests differ: local vs remote cache"

# c. --remote_download_minimal vs --remote_download_all, each after clean, warm cache.
bzl clean >/dev/null 2>&1
build minimal --remote_cache="$RC_ENDPOINT" --remote_download_minimal
MIN_WALL=$WALL MIN_BYTES=$(bazel_out_bytes) MIN_SUMMARY=$SUMMARY
[ -z "$(other_kinds -e 'remote cache hit')" ] || fail "minimal: not all remote cache hits: $SUMMARY"
# Under minimal outputs stay remote until something needs them: `bazel run` must fetch the
# program it runs -- the Go program inside the images. Run outside an image it stops at its
# first file from an APK package; that message proves the fetched binary ran.
log "bazel run //examples/hello under --remote_download_minimal"
rc=0
bzl run "${COMMON[@]}" --remote_cache="$RC_ENDPOINT" --remote_download_minimal //examples/hello \
  >"$LOGS/minimal-run.log" 2>&1 || rc=$?
grep -q '^hello: open /usr/share/wharf/greeting.txt' "$LOGS/minimal-run.log" && [ "$rc" = 1 ] || {
  tail -20 "$LOGS/minimal-run.log" >&2
  fail "bazel run //examples/hello under --remote_download_minimal did not run the program (exit $rc)"
}
# ... and an image's layout directory (a tree artifact), asked for as a top-level output group,
# is materialized from the cache and matches the image's digest.
log "bazel build --output_groups=+layout //examples/hello_image:image under --remote_download_toplevel"
bzl build "${COMMON[@]}" --remote_cache="$RC_ENDPOINT" --remote_download_toplevel \
  --output_groups=+layout //examples/hello_image:image >"$LOGS/toplevel-layout.log" 2>&1 || {
  tail -20 "$LOGS/toplevel-layout.log" >&2
  fail "--output_groups=+layout under --remote_download_toplevel failed"
}
bin=$(bzl info "${COMMON[@]}" bazel-bin 2>/dev/null)
img_digest=$(awk '$1 == "image.digest" {print $2}' "$LOGS/digests.local")
[ -n "$img_digest" ] || fail "no image.digest in the local build"
[ "$(cat "$bin/$DIGEST_PKG/image.digest")" = "$img_digest" ] || fail "toplevel: image.digest differs"
grep -q "$img_digest" "$bin/$DIGEST_PKG/image/index.json" ||
  fail "toplevel: layout $DIGEST_PKG/image/index.json does not name $img_digest"
[ -s "$bin/$DIGEST_PKG/image/blobs/sha256/${img_digest#sha256:}" ] ||
  fail "toplevel: layout lacks the manifest blob $img_digest"
bzl clean >/dev/null 2>&1
build all --remote_cache="$RC_ENDPOINT" --remote_download_all
ALL_WALL=$WALL ALL_BYTES=$(bazel_out_bytes) ALL_SUMMARY=$SUMMARY
[ -z "$(other_kinds -e 'remote cache hit')" ] || fail "download_all: not all remote cache hits: $SUMMARY"
[ "$MIN_BYTES" -lt "$ALL_BYTES" ] ||
  fail "--remote_download_minimal materialized $MIN_BYTES bytes, not less than --remote_download_all's $ALL_BYTES"
digests "$LOGS/digests.all"
diff -u "$LOGS/digests.local" "$LOGS/digests.all" || check_fail "digests differ: local vs download_all"

# a. remote execution on Buildbarn.
bzl clean >/dev/null 2>&1
build remote-exec --remote_executor="$RE_ENDPOINT"
RE_SUMMARY=$SUMMARY RE_WALL=$WALL
nremote=$(count remote)
[ "$nremote" -gt 0 ] || fail "remote-exec: no remote processes: $SUMMARY"
bad=$(other_kinds -e remote)
[ -z "$bad" ] || fail "remote-exec: processes ran outside the executor ($bad): $SUMMARY"
# Per action, from the execution log: rules_wharf's actions declare supports-workers and
# supports-multiplex-workers, yet with an executor they must run remotely.
jq -r 'select(.mnemonic != null) | [.mnemonic, .runner] | @tsv' "$LOGS/remote-exec.exec.json" \
  >"$LOGS/remote-exec.runners"
for m in $WHARF_MNEMONICS; do
  bad=$(awk -F'\t' -v m="$m" '$1 == m && $2 != "remote"' "$LOGS/remote-exec.runners" | sort | uniq -c)
  [ -z "$bad" ] || fail "remote-exec: $m actions not run remotely: $bad"
done
for m in $REQUIRED_MNEMONICS; do
  grep -q "^$m	remote\$" "$LOGS/remote-exec.runners" || fail "remote-exec: no remote $m action"
done
digests "$LOGS/digests.remote"
if ! diff -u "$LOGS/digests.local" "$LOGS/digests.remote"; then
  # Which rules_wharf outputs differ between the local and the remote build (execution logs).
  outs() {
    jq -r --arg m "$WHARF_MNEMONICS" 'select(.mnemonic != null and (.mnemonic | IN($m | split(" ")[])))
      | .actualOutputs[]? | "\(.path) \(.digest.hash)"' "$1" | sort
  }
  echo "outputs of rules_wharf actions that differ (local vs remote):" >&2
  join <(outs "$LOGS/cache-cold.exec.json") <(outs "$LOGS/remote-exec.exec.json") |
    awk '$2 != $3 {print "  " $1}' >&2
  check_fail "digests differ: local vs remote execution (see the outputs listed above)"
fi

# a3. oci_structure_test on Buildbarn: the test action runs remotely (its inputs are the image's
# config, layer blobs and metadata); its command test runs under runc when the runner has it
# (Buildbarn's bare runner here: the host's runc, as root), else it is SKIPPED with the reason.
log "bazel test //tests/structure:image_test //tests/structure:index_test under Buildbarn"
bzl test "${COMMON[@]}" --remote_executor="$RE_ENDPOINT" --test_output=all --nocache_test_results \
  --execution_log_json_file="$LOGS/structure.exec.json" \
  //tests/structure:image_test //tests/structure:index_test >"$LOGS/structure.log" 2>&1 || {
  tail -30 "$LOGS/structure.log" >&2
  fail "oci_structure_test under Buildbarn failed (log: $LOGS/structure.log)"
}
# Each test is two TestRunner spawns (the test, then its test.xml): all must run remotely.
runners=$(jq -r 'select(.mnemonic == "TestRunner") | .runner' "$LOGS/structure.exec.json" | sort | uniq -c)
[ "$(echo "$runners" | awk '$2 == "remote" {print $1}')" -ge 2 ] && [ "$(echo "$runners" | grep -vc ' remote$')" = 0 ] ||
  check_fail "oci_structure_test: test actions not all on Buildbarn: $runners"
grep -q '^=== PASS: Command Test: hello runs' "$LOGS/structure.log" ||
  grep -A1 '^=== SKIPPED: Command Test: hello runs' "$LOGS/structure.log" | grep -q 'SKIPPED: ' ||
  check_fail "oci_structure_test on Buildbarn: the command test neither passed nor was SKIPPED with a reason (log: $LOGS/structure.log)"

# a2. push what Buildbarn built, without its layers on this machine: `bazel run` of an
# oci_push under --remote_download_minimal takes every layer from the executor's CAS.
command -v docker-registry >/dev/null || fail "needs docker-registry (e2e/install_tools.sh)"
REG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$STATE/registry"
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
  "$STATE/registry/data" "$REG_PORT" >"$STATE/registry/config.yml"
docker-registry serve "$STATE/registry/config.yml" >"$LOGS/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do port_open "$REG_PORT" && break; sleep 0.1; done
port_open "$REG_PORT" || fail "registry did not start (log: $LOGS/registry.log)"
bzl clean >/dev/null 2>&1
log "bazel run //examples/hello_image:push_multiarch under Buildbarn and --remote_download_minimal"
bzl run "${COMMON[@]}" --remote_executor="$RE_ENDPOINT" --remote_download_minimal \
  //examples/hello_image:push_multiarch -- --repository "127.0.0.1:$REG_PORT/wharf/rbe" \
  --remote-cache "$RE_ENDPOINT" --progress never >"$LOGS/push.out" 2>"$LOGS/push.log" || {
  tail -30 "$LOGS/push.log" >&2
  fail "push under --remote_download_minimal failed (log: $LOGS/push.log)"
}
PUSH_BYTES=$(bazel_out_bytes)
PUSH_SUMMARY=$(grep -A1 '^pushed ' "$LOGS/push.log" | tail -1 | sed 's/^ *//')
echo "    $PUSH_SUMMARY; bazel-out $PUSH_BYTES bytes" >&2
idx_digest=$(awk '$1 == "multiarch.digest" {print $2}' "$LOGS/digests.local")
[ "$(cat "$LOGS/push.out")" = "127.0.0.1:$REG_PORT/wharf/rbe@$idx_digest" ] ||
  check_fail "push printed $(cat "$LOGS/push.out"), want the local build's index $idx_digest"
case "$PUSH_SUMMARY" in
*"output tree"* | *"disk cache"*) check_fail "push took layers from this machine: $PUSH_SUMMARY" ;;
*"remote cache"*) ;;
*) check_fail "push took no layer from the remote cache: $PUSH_SUMMARY" ;;
esac

# ---- summary -------------------------------------------------------------------------------
ndig=$(wc -l <"$LOGS/digests.local")
mnem=$(for m in $WHARF_MNEMONICS; do
  n=$(grep -c "^$m	remote\$" "$LOGS/remote-exec.runners" || true)
  [ "$n" = 0 ] || printf '%s=%s ' "$m" "$n"
done)
if [ ${#FAILURES[@]} = 0 ]; then
  verdict="all checks passed ($TARGETS; $ndig image/index digests equal in every mode)"
else
  verdict="${#FAILURES[@]} check(s) FAILED ($TARGETS; $ndig image/index digests compared)"
fi
cat <<EOF

e2e/rbe: $verdict
| build                                   | wall   | bazel-out bytes | processes
|-----------------------------------------|--------|-----------------|----------
| local exec + upload (empty cache)       | ${RC_COLD_WALL}s | - | $RC_COLD_SUMMARY
| remote cache, after clean               | ${RC_WARM_WALL}s | - | $RC_WARM_SUMMARY
| remote cache, --remote_download_minimal | ${MIN_WALL}s | $MIN_BYTES | $MIN_SUMMARY
| remote cache, --remote_download_all     | ${ALL_WALL}s | $ALL_BYTES | $ALL_SUMMARY
| Buildbarn --remote_executor             | ${RE_WALL}s | - | $RE_SUMMARY
| push from Buildbarn's CAS, minimal      | -      | $PUSH_BYTES | $PUSH_SUMMARY
remote rules_wharf actions: $mnem
logs: $LOGS
EOF
if [ ${#FAILURES[@]} -gt 0 ]; then
  printf 'e2e/rbe: FAILED: %s\n' "${FAILURES[@]}" >&2
  exit 1
fi
