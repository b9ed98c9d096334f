#!/usr/bin/env bash
# tools/dev/bench/scale.sh [WORKDIR] -- the scale rows of docs/performance.md (issue 31 item 3),
# in one run: a monorepo of N images from 5 locks that share most of their packages, for each
# N in SCALE_SIZES (100 300 1000), side by side. Each image is a package of its own
# (sN/aI/BUILD.bazel: an oci_layer of one small file, the app, and an oci_image on lock
# I mod 5), so the run measures the rules and Bazel, not compilers. The locks: 100 generated
# packages of 20 MiB in all, 80 in every lock and 4 of each lock's own, served over http by
# tools/dev/bench/serve as a CDN serves them. The release's prebuilt wharf is the toolchain.
#
# Per size, with a Bazel server of its own (shut down before each size, so a smaller size does
# not carry a larger one's graph): loading and analysis after `bazel clean` (--nobuild), clean
# build (`bazel clean`, every action run; no disk cache), its action count ("N total
# actions") and one image's actions by mnemonic (aquery), the Bazel server's heap after a full build (a new server, the
# build again, `bazel info used-heap-size-after-gc`), a no-op build and one image changed
# (its app file edited) in turn (paired: the target is a ratio), one lock package changed
# (a shared package of lock 0 at a new version: 1/5 of the images change). Then the cost of
# each added image (the slope between the sizes) and the targets: no-op <= 2 s at the largest
# size, one image changed <= no-op + 10%, heap linear in the images (the two slopes agree);
# and, from --profile of one more no-op and one-image build (and a remote no-op), the spans
# of 40 ms or more on Bazel's command thread at the largest size: where the time goes.
#
# Remote execution (SCALE_RBE_SIZES, default the largest size; "" skips it): Buildbarn from
# e2e/rbe (its binaries, provisioned by e2e/rbe/provision.sh; its configuration with every
# port moved from 2xxxx to 3xxxx, so a concurrent e2e/rbe/run.sh keeps its own), in an output
# base of its own, --remote_executor and --remote_download_minimal: the clean build with an
# empty CAS (one run), again after `bazel clean` (every action a remote cache hit), no-op,
# one image changed; and the client's bytes: the output base, its bazel-out and external/,
# and the bytes Bazel uploaded and downloaded, from the Buildbarn frontend's Prometheus
# counters (Bazel 7.7.1 reports no byte totals of its own: bazelbuild/bazel#6727).
#
# Knobs: SCALE_SIZES, SCALE_RBE_SIZES, BENCH_RUNS (3: the runs each median is of).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
CACHE=${WHARF_CACHE:-$HOME/.cache/rules_wharf}
W=${1:-$CACHE/bench-scale}
export PATH=/usr/local/go/bin:$PATH
mkdir -p "$W"
W=$(cd "$W" && pwd)
IN=$W/in
# log, server_cpu, run_timed, median, start_serve, httplock, toolchain_package, module_head,
# prebuilt_and_bz
. "$root/tools/dev/bench/lib.sh"
read -r -a SIZES <<<"${SCALE_SIZES:-100 300 1000}"
read -r -a RBE_SIZES <<<"${SCALE_RBE_SIZES-${SIZES[-1]}}"
RUNS=${BENCH_RUNS:-3}
LOCKS=5

if [ ! -e "$IN/.done" ]; then
  log "generating inputs in $IN"
  (cd "$root" && go run ./tools/dev/bench/gen -out "$IN" -packages 100 -payload $((20 << 20)) \
    -locks "$LOCKS" -shared 80 -layers=false)
  touch "$IN/.done"
fi

# ---------------------------------------------------------------- the workspace
WS=$W/ws
BZ=$W/bazel # bound into tools/bazel's chroot at the same path (see run.sh)
export OB=$BZ/output_base
rm -rf "$WS" "$BZ/port"
mkdir -p "$WS/prebuilt" "$BZ"
(cd "$root" && go build -o "$W/serve" ./tools/dev/bench/serve)
start_serve "$BZ/port"
SERVER=$SERVED
BB_PIDS=()
trap 'kill $SERVER ${BB_PIDS[*]} 2>/dev/null || true' EXIT
BASE_URL="http://127.0.0.1:$(cat "$BZ/port")/"
ln -s "$IN/repo" "$WS/repo"
for k in $(seq 0 $((LOCKS - 1))); do
  httplock "$IN/locks/lock_$k.json" "$BZ/lock_$k.json"
  cp "$BZ/lock_$k.json" "$WS/scale_$k.lock.json"
done
httplock "$IN/locks/lock_0.changed.json" "$BZ/lock_0.changed.json"
{
  module_head scale_workspace
  echo 'apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")'
  for k in $(seq 0 $((LOCKS - 1))); do
    echo "apk.translate_lock(name = \"scale_$k\", lock = \"//:scale_$k.lock.json\")"
  done
  echo "use_repo(apk, $(seq -f '"scale_%g"' 0 $((LOCKS - 1)) | paste -sd,))"
} >"$WS/MODULE.bazel"
touch "$WS/BUILD.bazel"
for n in "${SIZES[@]}"; do
  for i in $(seq 0 $((n - 1))); do
    d=$WS/s$n/a$i
    mkdir -p "$d"
    printf 'app %d of %d\n' "$i" "$n" >"$d/app.txt"
    cat >"$d/BUILD.bazel" <<EOF
load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_layer")
oci_layer(name = "app", files = {"app.txt": "/srv/app.txt"})
oci_image(name = "image", apks = "@scale_$((i % LOCKS))", layers = [":app"], cmd = ["/bin/cat", "/srv/app.txt"])
EOF
  done
done
prebuilt_and_bz
# B ARGS...: bazel ARGS, its output in $W/b.log, shown when it fails.
B() {
  "$W/bz" "$@" >"$W/b.log" 2>&1 || {
    tail -30 "$W/b.log" >&2
    log "FAILED: bazel $*"
    return 1
  }
}
FLAGS=(--disk_cache= --extra_toolchains=//prebuilt:toolchain --color=no --curses=no)

# ---------------------------------------------------------------- measuring
declare -A R # R[metric,size]: a cell of the table
# bazel_median PREP ARGS...: PREP (not measured) then `bazel ARGS`, RUNS times; M is
# "wall [lo–hi]" of the median run, M_WALL its wall time and M_ERR its stderr.
bazel_median() {
  local prep=$1 wall lo hi
  shift
  rm -f "$W/runs" "$W/runs.err"
  for _ in $(seq "$RUNS"); do
    $prep
    run_timed "$W/runs" "$W/bz" "$@"
    # stderr of each run, in order, for the median run's counts
    cp "$W/stderr" "$W/stderr.$(wc -l <"$W/runs")"
  done
  read -r wall _ _ _ lo hi < <(median "$W/runs")
  M_WALL=$wall M="$wall [$lo–$hi]"
  M_ERR=$W/stderr.$(grep -n "^$wall " "$W/runs" | head -1 | cut -d: -f1)
}
# total_actions FILE: the action count of a build's last line ("..., 2,123 total actions").
total_actions() { grep -oE '[0-9,]+ total actions?' "$1" | tail -1 | tr -d , | cut -d' ' -f1; }
prep_clean() { B clean; }
prep_none() { :; }
# The image changed: its app file edited (new bytes each time, so no cache holds them).
prep_image_changed() { date +%s%N >"$WS/s$SIZE/a7/app.txt"; }
# One package of lock 0 at a new version: the image built with the lock as it was, then the
# lock with the package changed (a shared package, so its extraction is new for lock 0).
prep_lock_changed() {
  cp "$BZ/lock_0.json" "$WS/scale_0.lock.json"
  B build "${FLAGS[@]}" "//s$SIZE/..."
  cp "$BZ/lock_0.changed.json" "$WS/scale_0.lock.json"
}
# paired_noop_change TARGET FLAGS...: RUNS pairs of a no-op and one image changed, in turn;
# sets the cells noop, image and image_ratio (median of the per-pair ratios) for SIZE.
paired_noop_change() {
  local t=$1 ratio lo hi
  shift
  rm -f "$W/pa" "$W/pb"
  for _ in $(seq "$RUNS"); do
    run_timed "$W/pa" "$W/bz" build "$@" "$t"
    prep_image_changed
    run_timed "$W/pb" "$W/bz" build "$@" "$t"
  done
  R[$PFX noop,$SIZE]=$(median "$W/pa" | awk '{print $1 " [" $5 "–" $6 "]"}')
  R[$PFX image,$SIZE]=$(median "$W/pb" | awk '{print $1 " [" $5 "–" $6 "]"}')
  read -r ratio lo hi < <(paste -d' ' "$W/pa" "$W/pb" | awk '{printf "%.3f\n", $5 / $1}' | sort -n |
    awk '{r[NR] = $1} END {print r[int((NR + 1) / 2)], r[1], r[NR]}')
  R[$PFX image_ratio,$SIZE]="$ratio [$lo–$hi]"
}

# profiled NAME TARGET FLAGS...: one more build with --profile (in $BZ: Bazel's chroot
# sees it); its spans of 40 ms or more on the command's thread in $BZ/PFX-NAME-SIZE.spans.
profiled() {
  local p=$BZ/$PFX-$1-$SIZE
  shift
  B build --profile="$p.profile.gz" "${@:2}" "$1"
  python3 - "$p.profile.gz" >"$p.spans" <<'PY'
import gzip, json, sys
d = json.load(gzip.open(sys.argv[1]))
ev = d["traceEvents"] if isinstance(d, dict) else d
names = {e["tid"]: e["args"]["name"] for e in ev if e.get("ph") == "M" and e.get("name") == "thread_name"}
main = {t for t, n in names.items() if "grpc-command" in n or "Main Thread" in n}
t0 = min(e["ts"] for e in ev if "ts" in e)
for e in sorted(ev, key=lambda e: e.get("ts", 0)):
    if e.get("ph") == "X" and e.get("tid") in main and e.get("dur", 0) >= 40000:
        print("    %7.0f ms at %5.0f ms: %s" % (e["dur"] / 1e3, (e["ts"] - t0) / 1e3, e["name"][:90]))
PY
}

# local_rows N: the rows of size N, in a Bazel server of its own.
local_rows() {
  SIZE=$1 PFX=local
  local t=//s$1/...
  B shutdown || true
  # A new server, warmed by one analysis of the size (not measured), as a developer's is.
  B build --nobuild "${FLAGS[@]}" "$t"
  # Loading and analysis first: the last clean build then leaves every output built.
  log "local, $1 images: loading and analysis (--nobuild)"
  bazel_median prep_clean build --nobuild "${FLAGS[@]}" "$t"
  R[analysis,$SIZE]=$M
  R[configured,$SIZE]=$(grep -oE 'INFO: Analyzed .*' "$M_ERR" | grep -oE '[0-9,]+ targets configured' | tr -d , | cut -d' ' -f1)
  log "local, $1 images: clean builds"
  bazel_median prep_clean build "${FLAGS[@]}" "$t"
  R[clean,$SIZE]=$M R[actions,$SIZE]=$(total_actions "$M_ERR")
  # What each image adds: the actions of one image's package, by mnemonic.
  B aquery "${FLAGS[@]}" --output=summary "//s$1/a7:*"
  R[image_actions,$SIZE]=$(awk '/^Mnemonics:/ {m = 1; next} m && NF == 2 {printf "%s%s %s", sep, $1, $2; sep = ", "} m && NF != 2 {m = 0}' "$W/b.log")
  # The heap of a server that has loaded, analysed and built (from the action cache) the
  # whole size, after a full GC.
  B shutdown
  B build "${FLAGS[@]}" "$t"
  B info "${FLAGS[@]}" used-heap-size-after-gc
  R[heap_mb,$SIZE]=$(grep -oE '^[0-9]+' "$W/b.log")
  log "local, $1 images: heap ${R[heap_mb,$SIZE]} MB; no-op and one image changed, paired"
  paired_noop_change "$t" "${FLAGS[@]}"
  profiled noop "$t" "${FLAGS[@]}"
  prep_image_changed
  profiled image "$t" "${FLAGS[@]}"
  log "local, $1 images: one lock package changed"
  bazel_median prep_lock_changed build "${FLAGS[@]}" "$t"
  R[lock,$SIZE]=$M
  cp "$BZ/lock_0.json" "$WS/scale_0.lock.json"
  B build "${FLAGS[@]}" "$t"
  R[bazel_out,$SIZE]=$(du -sb "$OB/execroot/_main/bazel-out" | cut -f1)
  R[output_base,$SIZE]=$(du -sb "$OB" | cut -f1)
}

# ---------------------------------------------------------------- Buildbarn
BBP=3 # the first digit of every Buildbarn port (e2e/rbe's are 2xxxx)
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# bb_start: Buildbarn with e2e/rbe's configuration, ports moved, fresh storage in $W/bb.
bb_start() {
  local c state=$W/bb/state conf=$W/bb/conf
  "$root/e2e/rbe/provision.sh" buildbarn >&2
  rm -rf "$W/bb"
  mkdir -p "$conf" "$state/storage-ac/persistent_state" "$state/storage-cas/persistent_state" \
    "$state/worker/build" "$state/worker/cache"
  for c in "$root"/e2e/rbe/buildbarn/*sonnet; do
    sed -E "s/127\.0\.0\.1:2([0-9]{4})/127.0.0.1:$BBP\1/g" "$c" >"$conf/$(basename "$c")"
  done
  for p in 8980 8981 8982 8983 7982 9980 9981 9982 9986 9987; do
    ! port_open "$BBP$p" || { log "127.0.0.1:$BBP$p is in use"; exit 1; }
  done
  for c in storage:bb_storage frontend:bb_storage scheduler:bb_scheduler runner:bb_runner worker:bb_worker; do
    BB_STATE=$state "$CACHE/rbe/bin/${c#*:}" "$conf/${c%%:*}.jsonnet" >"$W/bb/${c%%:*}.log" 2>&1 &
    BB_PIDS+=($!)
  done
  for _ in $(seq 100); do
    port_open "${BBP}8980" && curl -s "http://127.0.0.1:${BBP}7982/" | grep -q '&#34;&#34;' && return 0
    sleep 0.2
  done
  log "Buildbarn not ready after 20 s; see $W/bb/*.log"
  exit 1
}
# bb_stop: the worker first (it takes seconds to exit), storage last.
bb_stop() {
  local i p
  for ((i = ${#BB_PIDS[@]} - 1; i >= 0; i--)); do
    p=${BB_PIDS[$i]}
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 75); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  done
  BB_PIDS=()
}
# frontend_bytes OPERATION: bytes of the blobs the frontend has moved for its clients since it
# started (its Prometheus counters of the gRPC backend, CAS and AC): "Get" what Bazel
# downloaded, "Put" what it uploaded.
frontend_bytes() {
  curl -s "http://127.0.0.1:${BBP}9980/metrics" |
    awk -v op="operation=\"$1\"" '/^buildbarn_blobstore_blob_access_operations_blob_size_bytes_sum/ &&
      /backend_type="grpc"/ && index($0, op) {s += $2} END {printf "%d\n", s}'
}

# rbe_rows N: the rows of size N under Buildbarn, --remote_download_minimal.
rbe_rows() {
  SIZE=$1 PFX=rbe
  local t=//s$1/... b0
  local RF=("${FLAGS[@]}" --remote_executor=grpc://127.0.0.1:${BBP}8980 --remote_download_minimal --jobs=8)
  B shutdown || true
  B clean || true
  B fetch "${RF[@]}" "$t"
  log "remote, $1 images: clean build, empty CAS"
  rm -f "$W/runs"
  b0=$(frontend_bytes Put)
  run_timed "$W/runs" "$W/bz" build "${RF[@]}" "$t"
  R[rbe_cold_put,$SIZE]=$(($(frontend_bytes Put) - b0))
  R[rbe_cold,$SIZE]=$(cut -d' ' -f1 "$W/runs")
  R[rbe_cold_summary,$SIZE]=$(grep -oE '[0-9,]+ process(es)?: .*' "$W/stderr" | tail -1)
  log "remote, $1 images: clean build, every action in the CAS"
  b0=$(frontend_bytes Get)
  bazel_median prep_clean build "${RF[@]}" "$t"
  R[rbe_warm,$SIZE]=$M
  R[rbe_served,$SIZE]=$((($(frontend_bytes Get) - b0) / RUNS))
  R[rbe_output_base,$SIZE]=$(du -sb "$OB" | cut -f1)
  R[rbe_bazel_out,$SIZE]=$(du -sb "$OB/execroot/_main/bazel-out" | cut -f1)
  R[rbe_external,$SIZE]=$(du -sb "$OB/external" | cut -f1)
  log "remote, $1 images: no-op and one image changed, paired"
  paired_noop_change "$t" "${RF[@]}"
  profiled noop "$t" "${RF[@]}"
}

# ---------------------------------------------------------------- the table
# num CELL: the first number of a cell ("1.23 [1.1–1.4]" -> 1.23).
num() { awk '{print $1 + 0}' <<<"$1"; }
# slope METRIC SCALE A B: (value at size B - value at size A) / (B - A), times SCALE.
slope() { awk -v a="$(num "${R[$1,$3]:-0}")" -v b="$(num "${R[$1,$4]:-0}")" -v s="$2" -v n="$(($4 - $3))" \
  'BEGIN {v = (b - a) / n * s; printf (v >= 100 || v <= -100 ? "%.0f" : "%.2f"), v}'; }
# table_row NAME METRIC SLOPE_SCALE SLOPE_UNIT [SIZES...]: a row of the table, the cost of an
# added image (between the last two sizes) in the last column.
table_row() {
  local name=$1 m=$2 s=$3 unit=$4 line n
  shift 4
  line="| $name |"
  for n in "$@"; do line+=" ${R[$m,$n]:--} |"; done
  if [ $# -ge 2 ] && [ "$s" != - ]; then
    line+=" $(slope "$m" "$s" "${@: -2:1}" "${@: -1}") $unit |"
  else
    line+=" - |"
  fi
  echo "$line"
}
header() {
  local n line="| what |" rule="|---|"
  for n in "$@"; do line+=" $n images |" rule+="---:|"; done
  printf '%s per added image |\n%s---:|\n' "$line" "$rule"
}

main() {
  local n last=${SIZES[-1]}
  for n in "${SIZES[@]}"; do local_rows "$n"; done
  B shutdown || true
  if [ ${#RBE_SIZES[@]} -gt 0 ]; then
    export OB=$BZ/output_base_rbe
    bb_start
    for n in "${RBE_SIZES[@]}"; do rbe_rows "$n"; done
    B shutdown || true
    bb_stop
  fi
  echo
  echo "rules_wharf scale bench, $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load average at the end" \
    "$(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$root" rev-parse --short HEAD)," \
    "$LOCKS locks of 84 packages (80 shared), prebuilt wharf, no disk cache; seconds: median of $RUNS [range]"
  echo
  header "${SIZES[@]}"
  table_row "clean build (bazel clean; every action run), s" clean 1000 "ms" "${SIZES[@]}"
  table_row "loading and analysis after bazel clean (--nobuild), s" analysis 1000 "ms" "${SIZES[@]}"
  table_row "targets configured" configured 1 "" "${SIZES[@]}"
  table_row "actions (the clean build's total)" actions 1 "" "${SIZES[@]}"
  table_row "Bazel server heap after a full build (used-heap-size-after-gc), MB" heap_mb 1024 "KiB" "${SIZES[@]}"
  table_row "no-op build, s" "local noop" 1000 "ms" "${SIZES[@]}"
  table_row "one image changed (its app file), s" "local image" 1000 "ms" "${SIZES[@]}"
  table_row "one image changed / no-op, median of $RUNS pairs" "local image_ratio" - "" "${SIZES[@]}"
  table_row "one lock package changed (lock 0: 1/5 of the images), s" lock 1000 "ms" "${SIZES[@]}"
  table_row "client bytes: bazel-out after a build" bazel_out 1 "B" "${SIZES[@]}"
  table_row "client bytes: the output base" output_base 1 "B" "${SIZES[@]}"
  if [ ${#RBE_SIZES[@]} -gt 0 ]; then
    echo
    echo "Remote execution: Buildbarn on 127.0.0.1 (one worker, concurrency 2, on the same 2 cores)," \
      "--remote_executor --remote_download_minimal --jobs=8, output base of its own:"
    echo
    header "${RBE_SIZES[@]}"
    table_row "clean build, empty CAS (every action executed remotely; one run), s" rbe_cold 1000 ms "${RBE_SIZES[@]}"
    table_row "its process summary" rbe_cold_summary - "" "${RBE_SIZES[@]}"
    table_row "bytes Bazel uploaded in that build (frontend's counters)" rbe_cold_put 1 B "${RBE_SIZES[@]}"
    table_row "clean build, every action in the CAS (remote cache hits), s" rbe_warm 1000 ms "${RBE_SIZES[@]}"
    table_row "bytes Bazel downloaded in that build (frontend's counters; mean of the runs)" rbe_served 1 B "${RBE_SIZES[@]}"
    table_row "client bytes: the output base" rbe_output_base 1 B "${RBE_SIZES[@]}"
    table_row "client bytes: its bazel-out" rbe_bazel_out 1 B "${RBE_SIZES[@]}"
    table_row "client bytes: its external/ (the locks' packages, fetched by the client)" rbe_external 1 B "${RBE_SIZES[@]}"
    table_row "no-op build, s" "rbe noop" 1000 ms "${RBE_SIZES[@]}"
    table_row "one image changed, s" "rbe image" 1000 ms "${RBE_SIZES[@]}"
    table_row "one image changed / no-op, median of $RUNS pairs" "rbe image_ratio" - "" "${RBE_SIZES[@]}"
  fi
  echo
  echo "One image's package, its actions by mnemonic (aquery): ${R[image_actions,$last]}"
  echo
  targets
  echo
  echo "Where the time goes at $last images: spans of 40 ms or more on the command's thread" \
    "(nested spans inside their parents), from --profile of one more build of each kind:"
  for n in local-noop local-image rbe-noop; do
    [ -e "$BZ/$n-$last.spans" ] || continue
    echo "- ${n/-/ }:"
    cat "$BZ/$n-$last.spans"
  done
}

# targets: the issue's three, at the largest size.
targets() {
  local last=${SIZES[-1]} noop ratio s1 s2
  noop=$(num "${R[local noop,$last]}")
  ratio=$(num "${R[local image_ratio,$last]}")
  echo "Targets at $last images:"
  echo "- no-op <= 2 s: $noop s: $(awk -v v="$noop" 'BEGIN {print (v <= 2 ? "met" : "NOT met, by " v - 2 " s")}')"
  echo "- one image changed <= no-op + 10%: ratio $ratio (median of the pairs):" \
    "$(awk -v v="$ratio" 'BEGIN {print (v <= 1.10 ? "met" : "NOT met, by " int((v - 1.10) * 100 + 0.5) " points")}')"
  if [ ${#SIZES[@]} -ge 3 ]; then
    s1=$(slope heap_mb 1024 "${SIZES[0]}" "${SIZES[1]}")
    s2=$(slope heap_mb 1024 "${SIZES[-2]}" "$last")
    echo "- heap linear in images: $s1 KiB per image from ${SIZES[0]} to ${SIZES[1]}, $s2 KiB from ${SIZES[-2]} to $last:" \
      "$(awk -v a="$s1" -v b="$s2" 'BEGIN {d = (a > b ? a - b : b - a) / (a > b ? a : b); print (d <= 0.25 ? "linear (the slopes within 25%)" : "NOT linear: the slopes differ by " int(d * 100) "%")}')"
  fi
}

main
