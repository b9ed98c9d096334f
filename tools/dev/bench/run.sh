#!/usr/bin/env bash
# tools/dev/bench/run.sh [WORKDIR] -- rules_wharf against its peers on the same generated inputs, in
# one run; prints a markdown table (docs/performance.md holds the last one).
#
#   layers:  1 GiB file, 100,000 small files, a 30 MB go_binary: `wharf layer` vs GNU tar +
#            gzip / zstd and `crane append`; floors: sha256 and inflate of the same bytes
#   images:  100 signed APKs (~300 MB uncompressed): apko build (offline, same lock) vs the
#            wharf verbs run one after another without Bazel; the 100 packages merged into
#            one layer by splicing (merge-layers) vs recompressing them (gzip -dc | gzip -6);
#            Bazel builds of the image (packages fetched from a local http server, as from a
#            CDN): clean, clean image (tool built), no-op, one package changed, every action
#            cached, five and fifty images of one lock (vs apko five and fifty times;
#            BENCH_APKO50=0 skips apko ×50, about 100 s), apk_layer_budget = 10, the
#            release's prebuilt wharf (clean, clean without a disk cache, fifty images, no-op, one
#            package changed, also with 20 more locks in the module, every action cached,
#            loading and analysis alone); Bazel's floor: the clean build and a one-package
#            change with every action run by a tool that only copies a real build's outputs
#            (tools/dev/bench/replay), so what remains is Bazel's own cost; fetching the
#            lock's 100 packages (empty or full repository cache; 20 ms a request, with and
#            without 16 loading threads) vs apko build from the same server; each Bazel row,
#            and each row a target compares against a peer (apko build, zstd and 100k files
#            against GNU tar), is the median of BENCH_RUNS (5)
#   targets: each target's two sides once more, in turn (A B A B ..., BENCH_RUNS pairs): its
#            ratio is the median of the per-pair ratios (a second table); Bazel's floor
#            against apko and for the one-package change, paired the same way
#   (the scale rows, 100 to 1,000 images from 5 locks and under remote execution, are
#   tools/dev/bench/scale.sh's; the helpers both use are tools/dev/bench/lib.sh)
#
# Needs: go, GNU time; builds crane and apko (e2e/install_tools.sh: the version the equivalence
# tests compare with) into the cache, and prints apko's version in the table's heading.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
CACHE=${WHARF_CACHE:-$HOME/.cache/rules_wharf}
W=${1:-$CACHE/bench}
IN=$W/in
BIN=$CACHE/bin
export PATH=/usr/local/go/bin:$BIN:$PATH
mkdir -p "$W" "$BIN"

# log, server_cpu, run_timed, median, start_serve, httplock, toolchain_package, module_head,
# prebuilt_and_bz
. "$root/tools/dev/bench/lib.sh"

# ---------------------------------------------------------------- tools
for t in zstd bc; do
  command -v "$t" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$t" >/dev/null
done
"$root/e2e/install_tools.sh"
APKO_VERSION=$("$BIN/apko" version 2>/dev/null | sed -n 's/^GitVersion: *//p')
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$W/wharf" ./tools/cmd/wharf)
(cd "$root" && go build -o "$W/floor" ./tools/dev/bench/floor)
WHARF=$W/wharf

# ---------------------------------------------------------------- inputs
if [ ! -e "$IN/.done" ]; then
  log "generating inputs in $IN"
  (cd "$root" && go run ./tools/dev/bench/gen -out "$IN")
  (cd "$IN/gobin" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o benchbin .)
  touch "$IN/.done"
fi

# ---------------------------------------------------------------- measuring
rows=()
# row NAME WALL CPU RSS BYTES [BAZEL_ELAPSED]
row() { rows+=("$(printf '| %s | %.2f | %.2f | %s | %s | %s |' "$1" "$2" "$3" "$4" "$5" "${6:--}")"); }
# measure NAME OUTPUT CMD...: wall, CPU (user+sys), max RSS and output size of one run.
measure() {
  local name=$1 out=$2 bytes=-
  shift 2
  rm -rf "$out" "$W/one"
  run_timed "$W/one" "$@"
  read -r wall cpu rss inner <"$W/one"
  [ -e "$out" ] && bytes=$(du -sb "$out" | cut -f1)
  row "$name" "$wall" "$cpu" "$((rss / 1024))" "$bytes" "$inner"
  log "$name: ${wall}s wall"
}
RUNS=${BENCH_RUNS:-5}
# measure_median NAME OUTPUT CMD...: measure, RUNS times; the row is the median run, the range
# of wall times after the name (as the Bazel rows). For the rows a target's ratio divides by,
# whose single runs spread by a third here (apko build: 3.3 to 5.3 s in one day).
# MEASURE_FRESH: paths removed (not measured) before each run, as a cache that must start empty.
measure_median() {
  local name=$1 out=$2 bytes=-
  shift 2
  rm -f "$W/runs"
  for _ in $(seq "$RUNS"); do
    rm -rf "$out" ${MEASURE_FRESH:-}
    run_timed "$W/runs" "$@"
  done
  read -r wall cpu rss inner lo hi < <(median "$W/runs")
  [ -e "$out" ] && bytes=$(du -sb "$out" | cut -f1)
  row "$name [$lo–$hi]" "$wall" "$cpu" "$((rss / 1024))" "$bytes" "$inner"
  log "$name: ${wall}s wall (median of $RUNS)"
}

# Read inputs once before each group, so no tool pays for a cold page cache.
warm() { find "$@" -type f -exec cat {} + >/dev/null; }
# BENCH_SKIP_LAYERS=1 skips the layer rows (for working on the image rows).
if [ -z "${BENCH_SKIP_LAYERS:-}" ]; then
L=$W/layers
mkdir -p "$L"
warm "$IN/big"

# 1 GiB single file
measure "floor: sha256 of 1 GiB (openssl, SHA-NI)" /nonexistent openssl dgst -sha256 "$IN/big/file"
measure "wharf layer 1 GiB, gzip" "$L/big.wharf.tgz" "$WHARF" layer --file "/big/file=$IN/big/file" --blob "$L/big.wharf.tgz" --metadata "$L/big.wharf.json"
measure "wharf layer 1 GiB, gzip, one core (GOMAXPROCS=1: same bytes)" "$L/big.wharf.1core.tgz" env GOMAXPROCS=1 "$WHARF" layer --file "/big/file=$IN/big/file" --blob "$L/big.wharf.1core.tgz" --metadata "$L/big.wharf.1core.json"
measure "wharf layer 1 GiB, gzip -1" "$L/big.wharf1.tgz" "$WHARF" layer --level 1 --file "/big/file=$IN/big/file" --blob "$L/big.wharf1.tgz" --metadata "$L/big.wharf1.json"
measure "wharf layer 1 GiB, zstd, one core (GOMAXPROCS=1: same bytes)" "$L/big.wharf.1core.tzst" env GOMAXPROCS=1 "$WHARF" layer --compression zstd --file "/big/file=$IN/big/file" --blob "$L/big.wharf.1core.tzst" --metadata "$L/big.wharf.1core.zjson"
# The commands a target compares, also run in turn at the end (paired).
wharf_zstd=("$WHARF" layer --compression zstd --file "/big/file=$IN/big/file" --blob "$L/big.wharf.tzst" --metadata "$L/big.wharf.zjson")
gnu_zstd=(bash -c "tar -C '$IN' -cf - big/file | zstd -q -3 > '$L/big.tar.zst'")
measure_median "wharf layer 1 GiB, zstd" "$L/big.wharf.tzst" "${wharf_zstd[@]}"
measure "GNU tar + gzip -6, 1 GiB" "$L/big.tar.gz" bash -c "tar -C '$IN' -cf - big/file | gzip -6 > '$L/big.tar.gz'"
measure_median "GNU tar + zstd -3, 1 GiB" "$L/big.tar.zst" "${gnu_zstd[@]}"
measure "floor: inflate of the 1 GiB layer" /nonexistent bash -c "gzip -dc '$L/big.wharf.tgz' > /dev/null"
tar -C "$IN" -cf "$L/big.tar" big/file
# crane compresses with gzip level 1 (BestSpeed).
measure "crane append 1 GiB (tar input)" "$L/big.crane.tar" crane append --oci-empty-base -f "$L/big.tar" -t bench:latest -o "$L/big.crane.tar"
rm -f "$L/big.tar"

# 100,000 small files
warm "$IN/small"
(cd "$IN" && find small -type f | sort | sed "s|.*|--file=/&=$IN/&|") >"$L/small.params"
wharf_small=("$WHARF" layer "@$L/small.params" --blob "$L/small.wharf.tgz" --metadata "$L/small.wharf.json")
gnu_small=(bash -c "tar -C '$IN' -cf - small | gzip -6 > '$L/small.tar.gz'")
measure_median "wharf layer 100k files, gzip" "$L/small.wharf.tgz" "${wharf_small[@]}"
measure_median "GNU tar + gzip -6, 100k files" "$L/small.tar.gz" "${gnu_small[@]}"

# 30 MB go_binary
warm "$IN/gobin"
measure "wharf layer go_binary (30 MB)" "$L/bin.wharf.tgz" "$WHARF" layer --file "/app/benchbin=$IN/gobin/benchbin" --blob "$L/bin.wharf.tgz" --metadata "$L/bin.wharf.json"
measure "GNU tar + gzip -6, go_binary" "$L/bin.tar.gz" bash -c "tar -C '$IN/gobin' -cf - benchbin | gzip -6 > '$L/bin.tar.gz'"
fi

# ---------------------------------------------------------------- 100-APK image
A=$W/apk
rm -rf "$A" && mkdir -p "$A"
warm "$IN/repo"
# apko's cache starts empty each time: with the packages it expanded in an earlier run, its
# build takes about half as long, as a Bazel build with the extractions in its disk cache.
apko_build=(bash -c "cd '$IN' && apko build --offline --sbom=false --arch x86_64 --cache-dir '$A/apko-cache' --lockfile apko.lock.json apko.yaml bench:latest '$A/apko.tar'")
MEASURE_FRESH="$A/apko-cache" measure_median "apko build (100 APKs, offline, same lock)" "$A/apko.tar" "${apko_build[@]}"

# The wharf verbs one after another, as the Bazel actions run them for a lock of https URLs
# (no Bazel, one core): each package arrives as two ranged downloads, its head (signature
# and control members) and its data member, which is the layer blob as downloaded. The split
# is made here, not measured.
python3 - "$IN/apko.lock.json" "$IN" "$A" "$WHARF" >"$A/steps.sh" <<'PY'
import json, sys, shlex
lock, inp, out, wharf = sys.argv[1:]
pk = json.load(open(lock))["contents"]["packages"]
key = inp + "/repo/bench.rsa.pub"
q = shlex.quote
cmds, facts, metas, blobs, reqs = [], [], [], [], []
for i, p in enumerate(pk):
    o = "%s/%d" % (out, i)
    b = open(inp + "/" + p["url"], "rb").read()
    start = int(p["data"]["range"].removeprefix("bytes=").split("-")[0])
    open(o + ".head", "wb").write(b[:start])
    open(o + ".data", "wb").write(b[start:])
    cmds.append(["apk-extract", "--name", p["name"], "--version", p["version"], "--arch", p["architecture"],
        "--part", o + ".head", "--part", o + ".data", "--control-checksum", p["control"]["checksum"],
        "--data-checksum", p["data"]["checksum"], "--metadata", o + ".json", "--facts", o + ".facts"])
    reqs.append({"name": p["name"], "version": p["version"], "arch": p["architecture"], "parts": [o + ".head"],
        "control_checksum": p["control"]["checksum"]})
    facts += ["--package", o + ".facts"]
    metas.append(o)
json.dump(reqs, open(out + "/verify.json", "w"))
cmds.append(["apk-verify", "--packages", out + "/verify.json", "--key", key, "--out", out + "/verified.json"])
cmds.append(["apk-installdb", "--arch", "x86_64", "--key", key, "--repository", "repo"] + facts + ["--blob", out + "/db.tgz", "--metadata", out + "/db.json"])
args = ["image", "--spec-json", '{"os":"linux","architecture":"amd64"}']
for m in metas: args += ["--layer", m + ".json"]
args += ["--layer", out + "/db.json", "--config", out + "/config.json", "--manifest", out + "/manifest.json", "--digest", out + "/digest", "--descriptor", out + "/desc.json"]
cmds.append(args)
print("set -e")
print("\n".join(" ".join(map(q, [wharf] + c)) for c in cmds))
# The same requests for one persistent worker (Bazel's JSON worker protocol, one request
# at a time: requestId 0), as Bazel's workers run them.
with open(out + "/requests.jsonl", "w") as f:
    for c in cmds: f.write(json.dumps({"arguments": c, "requestId": 0}) + "\n")
# The OCI layout of that image (the layout output group): every blob copied into it.
args = [wharf, "layout", "--descriptor", out + "/desc.json", "--blob", out + "/manifest.json", "--blob", out + "/config.json"]
for m in metas: args += ["--layer", m + ".data=" + m + ".json"]
args += ["--layer", out + "/db.tgz=" + out + "/db.json", "--ref-name", "latest", "--out", out + "/layout"]
open(out + "/layout.sh", "w").write(" ".join(map(q, args)) + "\n")
# merge-layers of all 100 packages into one layer, as apk_layer_budget groups them.
with open(out + "/merge.params", "w") as f:
    for m in metas: f.write("--layer\n%s.data=%s.json\n--facts\n%s.facts\n" % (m, m, m))
PY
measure "wharf verbs, one process each, no Bazel (100 APKs, https lock: data members in place)" "$A/manifest.json" bash "$A/steps.sh"
worker_verbs=(bash -c "'$WHARF' --persistent_worker <'$A/requests.jsonl' >'$A/responses.jsonl'")
measure "wharf verbs, the same in one persistent worker (as Bazel runs them)" "$A/manifest.json" "${worker_verbs[@]}"
python3 -c 'import json,sys; bad=[l for l in open(sys.argv[1]) if json.loads(l).get("exitCode",0)]; n=sum(1 for _ in open(sys.argv[1])); sys.exit("worker: %d of %d requests failed: %s" % (len(bad), n, bad[:1]) if bad or n != 103 else 0)' "$A/responses.jsonl"
measure "wharf layout: that image as an OCI layout (the 100 blobs copied)" "$A/layout" bash "$A/layout.sh"
# The floor of those verbs: each of the same .apk files read once, its bytes hashed, every
# gzip member inflated and hashed (sha256, klauspost/compress: wharf's libraries), one core.
python3 -c 'import json,sys; print("\n".join(sys.argv[2] + "/" + p["url"] for p in json.load(open(sys.argv[1]))["contents"]["packages"]))' \
  "$IN/apko.lock.json" "$IN" >"$A/apks.txt"
apk_floor=(bash -c "xargs '$W/floor' <'$A/apks.txt' >/dev/null")
measure "floor: the same 100 APKs read, inflated, both sides hashed (one core)" /nonexistent "${apk_floor[@]}"
# The two ways to put 100 packages in one layer: splice their data members (what
# merge-layers does), or decompress and compress again (gzip -dc | gzip -6 of the members).
measure "wharf merge-layers: 100 packages into one layer (spliced)" "$A/merged.tgz" "$WHARF" merge-layers "@$A/merge.params" --blob "$A/merged.tgz" --metadata "$A/merged.json"
measure "recompressing instead: the 100 data members through gzip -dc and gzip -6" "$A/recompressed.tgz" bash -c "cat \$(ls '$A'/[0-9]*.data | sort -V) | gzip -dc | gzip -6 > '$A/recompressed.tgz'"

# Bazel: a workspace that uses rules_wharf like a user, in its own output base. Its lock
# names the packages by http URL, as users' locks do (https://packages.wolfi.dev/...), served
# from $IN by tools/dev/bench/serve with range requests: the rules fetch each package's
# members separately and the data member is the layer blob as downloaded.
WS=$W/ws
# Output base and disk cache in a directory bound into tools/bazel's chroot at the same path,
# so that removing them here removes what Bazel uses (an unbound /tmp path would live in the
# chroot's own /tmp, and a stale disk cache would serve the "clean" build).
BZ=$W/bazel
OB=$BZ/output_base
DC=$BZ/disk_cache
rm -rf "$WS" "$DC" "$DC.tool" "$BZ/port"
mkdir -p "$WS" "$BZ"
(cd "$root" && go build -o "$W/serve" ./tools/dev/bench/serve)
start_serve "$BZ/port"
SERVER=$SERVED
trap 'kill $SERVER 2>/dev/null || true' EXIT
BASE_URL="http://127.0.0.1:$(cat "$BZ/port")/"
ln -s "$IN/repo" "$WS/repo"
httplock "$IN/apko.lock.json" "$BZ/lock.json"
httplock "$IN/apko.changed.lock.json" "$BZ/lock.changed.json"
cp "$BZ/lock.json" "$WS/apko.lock.json"
cp "$IN/apko.lock.json" "$WS/apko.files.lock.json"
module_head bench_workspace >"$WS/MODULE.bazel"
cat >>"$WS/MODULE.bazel" <<EOF
bazel_dep(name = "gazelle", version = "0.43.0")
go_deps = use_extension("@gazelle//:extensions.bzl", "go_deps")
go_deps.gazelle_default_attributes(directives = ["gazelle:proto disable"])
apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "bench", lock = "//:apko.lock.json")
apk.translate_lock(name = "bench_files", lock = "//:apko.files.lock.json")
use_repo(apk, "bench", "bench_files")
EOF
# Fifty apps for the monorepo row: a small file each, its own layer on the one lock.
mkdir -p "$WS/apps"
for i in $(seq 0 49); do printf 'app %d\n' "$i" >"$WS/apps/app$i.txt"; done
cat >"$WS/BUILD.bazel" <<'EOF'
load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_layer")
oci_image(name = "image", apks = "@bench")
# A monorepo's 50 images of one lock, each with its own app layer.
[oci_layer(name = "app_%d" % i, files = {"apps/app%d.txt" % i: "/srv/app.txt"}) for i in range(50)]
[oci_image(name = "app_image_%d" % i, apks = "@bench", layers = [":app_%d" % i], cmd = ["/bin/cat", "/srv/app.txt"]) for i in range(50)]
filegroup(name = "fifty_images", srcs = [":app_image_%d" % i for i in range(50)])
# The same packages from a lock of file paths: no ranged downloads, so each extraction
# copies its data member out of the .apk.
oci_image(name = "image_files", apks = "@bench_files")
# Five images of one lock, as in a monorepo: the packages' work is shared.
[oci_image(name = "image_%d" % i, apks = "@bench", cmd = ["/bin/app%d" % i]) for i in range(5)]
filegroup(name = "five_images", srcs = [":image_%d" % i for i in range(5)])
# At most 10 layers for the packages: runs of about 11 packages spliced into one layer each.
oci_image(name = "image_budget", apks = "@bench", apk_layer_budget = 10)
EOF
# The prebuilt wharf a user downloads: the release command's binary for this machine (the
# same bytes the wharf extension fetches and checks), registered ahead of the source
# toolchain by --extra_toolchains: no rules_go, no Go SDK, no compile in these rows.
prebuilt_and_bz
B() { "$W/bz" "$@"; }
# bazel_run OUT PREP TARGET [FLAGS...]: PREP (not measured), then a build of TARGET
# (measured, into OUT).
bazel_run() {
  local out=$1 prep=$2 target=$3
  shift 3
  $prep
  run_timed "$out" "$W/bz" "${BAZEL_COMMAND:-build}" "$@" "$target"
}
# bazel_row NAME PREP TARGET [FLAGS...]: bazel_run RUNS times; the row is the median run, the
# range of wall times after the name.
bazel_row() {
  local name=$1
  shift
  rm -f "$W/runs"
  for _ in $(seq "$RUNS"); do
    bazel_run "$W/runs" "$@"
  done
  read -r wall cpu _ inner lo hi < <(median "$W/runs")
  row "$name [$lo–$hi]" "$wall" "$cpu" "-" "-" "$inner"
  log "$name: ${wall}s wall (median of $RUNS)"
}
# A disk cache with only the tool, copied fresh for each run so no image action is cached.
fresh_tool_cache() { rm -rf "$DC" && cp -a "$DC.tool" "$DC"; }
prep_clean() {
  B clean >/dev/null 2>&1
  fresh_tool_cache
}
# The tool built in the server and output base (as apko's binary is installed), nothing of
# the images cached.
prep_tool_built() {
  prep_clean
  B build --disk_cache="$DC" @rules_wharf_tools//:source >/dev/null 2>&1
}
prep_built() {
  prep_tool_built
  cp "$BZ/lock.json" "$WS/apko.lock.json"
  B build --disk_cache="$DC" //:image >/dev/null 2>&1
}
prep_changed() {
  prep_built
  cp "$BZ/lock.changed.json" "$WS/apko.lock.json"
}
prep_none() { :; }
prep_all_cached() { B clean >/dev/null 2>&1; }

log "bazel: building the wharf tool into a fresh disk cache (not measured)"
# The toolchain target builds the tool in the exec configuration, as the rules use it. After
# a clean, so that a tool already built in a reused output base is built again and cached.
B clean >/dev/null 2>&1 || true
B build --disk_cache="$DC.tool" @rules_wharf_tools//:source >/dev/null 2>&1
B fetch //:image //:image_files >/dev/null 2>&1
bazel_row "bazel: clean build (bazel clean; tool from the disk cache)" prep_clean //:image --disk_cache="$DC"
bazel_row "bazel: clean image build (tool built; no image action cached)" prep_tool_built //:image --disk_cache="$DC"
bazel_row "bazel: clean image build, every action a sandboxed process (no worker)" prep_tool_built //:image --disk_cache="$DC" --spawn_strategy=sandboxed
bazel_row "bazel: clean image build, lock of file paths (data members copied)" prep_tool_built //:image_files --disk_cache="$DC"
prep_built
bazel_row "bazel: no-op rebuild" prep_none //:image --disk_cache="$DC"
bazel_row "bazel: one package changed (its actions not cached)" prep_changed //:image --disk_cache="$DC"
cp "$BZ/lock.json" "$WS/apko.lock.json"
B build --disk_cache="$DC" //:image >/dev/null 2>&1
bazel_row "bazel: clean build, every action cached" prep_all_cached //:image --disk_cache="$DC"
bazel_row "bazel: clean image build + OCI layout (tool built)" prep_tool_built //:image --disk_cache="$DC" --output_groups=+layout
bazel_row "bazel: 5 images of one lock, clean image build (tool built)" prep_tool_built //:five_images --disk_cache="$DC"
bazel_row "bazel: 50 images of one lock (own app layer each), clean image build (tool built)" prep_tool_built //:fifty_images --disk_cache="$DC"
bazel_row "bazel: clean image build, apk_layer_budget = 10 (tool built)" prep_tool_built //:image_budget --disk_cache="$DC"
PREBUILT=--extra_toolchains=//prebuilt:toolchain
# built_with FLAG: the image built (not measured) with the toolchain FLAG registers.
built_with() { B build --disk_cache="$DC" "$1" //:image >/dev/null 2>&1; }
# changed_with FLAG: as prep_changed, with that toolchain: a disk cache without the changed
# package's actions.
changed_with() {
  cp "$BZ/lock.json" "$WS/apko.lock.json"
  prep_clean
  built_with "$1"
  cp "$BZ/lock.changed.json" "$WS/apko.lock.json"
}
# noop_again_with FLAG: the lock as before, the image built again (the no-op after a change).
noop_again_with() { cp "$BZ/lock.json" "$WS/apko.lock.json" && built_with "$1"; }
prep_prebuilt_noop() { built_with "$PREBUILT"; }
prep_prebuilt_changed() { changed_with "$PREBUILT"; }
bazel_row "bazel: clean build, prebuilt wharf toolchain (no rules_go)" prep_clean //:image --disk_cache="$DC" "$PREBUILT"
bazel_row "bazel: clean build, prebuilt wharf toolchain, no disk cache" prep_clean //:image --disk_cache= "$PREBUILT"
bazel_row "bazel: 50 images of one lock (own app layer each), clean build, prebuilt wharf toolchain" prep_clean //:fifty_images --disk_cache="$DC" "$PREBUILT"
bazel_row "bazel: no-op rebuild, prebuilt wharf toolchain" prep_prebuilt_noop //:image --disk_cache="$DC" "$PREBUILT"
# Bazel's own part of the clean build, with no wharf work: every action a disk cache hit, and
# loading and analysis alone. Target 1's bound: the prebuilt clean build cannot be faster.
bazel_row "bazel: clean build, prebuilt wharf toolchain, every action cached" prep_all_cached //:image --disk_cache="$DC" "$PREBUILT"
bazel_row "bazel: loading and analysis after bazel clean, prebuilt wharf toolchain (--nobuild)" prep_all_cached //:image --nobuild "$PREBUILT"
bazel_row "bazel: one package changed, prebuilt wharf toolchain" prep_prebuilt_changed //:image --disk_cache="$DC" "$PREBUILT"
# The same in a monorepo's module: 20 more locks (copies of this one under other names),
# which the apk extension reads again whenever any lock changes.
cp "$WS/MODULE.bazel" "$W/MODULE.one"
for i in $(seq -w 0 19); do
  cp "$BZ/lock.json" "$WS/more_$i.lock.json"
  echo "apk.translate_lock(name = \"more_$i\", lock = \"//:more_$i.lock.json\")" >>"$WS/MODULE.bazel"
done
bazel_row "bazel: one package changed, prebuilt wharf toolchain, 20 more locks in the module" prep_prebuilt_changed //:image --disk_cache="$DC" "$PREBUILT"
cp "$W/MODULE.one" "$WS/MODULE.bazel"
rm -f "$WS"/more_*.lock.json
cp "$BZ/lock.json" "$WS/apko.lock.json"

# Bazel's floor for these builds: the same actions, inputs, outputs and worker protocol, run
# by a tool that only copies the outputs the prebuilt wharf wrote (tools/dev/bench/replay,
# from a stash of that build's bazel-out, for both locks). What is left of a build is Bazel's.
STASH=$BZ/stash
rm -rf "$STASH" "$WS/replay"
mkdir -p "$STASH/bazel-out/k8-fastbuild" "$WS/replay"
for l in lock.json lock.changed.json; do
  cp "$BZ/$l" "$WS/apko.lock.json"
  B build --disk_cache= "$PREBUILT" //:image >/dev/null 2>&1
  cp -rnL "$OB/execroot/_main/bazel-out/k8-fastbuild/bin" "$STASH/bazel-out/k8-fastbuild/"
done
cp "$BZ/lock.json" "$WS/apko.lock.json"
(cd "$root" && go build -ldflags "-X main.stash=$STASH" -o "$WS/replay/wharf" ./tools/dev/bench/replay)
toolchain_package replay
REPLAY=--extra_toolchains=//replay:toolchain
prep_replay_changed() { changed_with "$REPLAY"; }
bazel_row "bazel: Bazel's floor: the clean build's 103 actions run by a tool that only copies their outputs (replay), no disk cache" prep_clean //:image --disk_cache= "$REPLAY"
bazel_row "bazel: Bazel's floor: the same with a disk cache" prep_clean //:image --disk_cache="$DC" "$REPLAY"
bazel_row "bazel: Bazel's floor: one package changed (replay)" prep_replay_changed //:image --disk_cache="$DC" "$REPLAY"
cp "$BZ/lock.json" "$WS/apko.lock.json"
# The module as it was, resolved again here, not in the first fetch run below.
B build --nobuild "$PREBUILT" //:image >/dev/null 2>&1

# Fetching the lock's 100 packages, as a machine with no output base does: each run from a
# server of its own on a new port (the lock's URLs change, so every package repository is
# fetched again), FETCH_LATENCY before each response (a CDN's round trip), into an empty
# repository cache unless FETCH_KEEP_CACHE.
RC=$BZ/repository_cache
FSERVER=
trap 'kill $SERVER $FSERVER 2>/dev/null || true' EXIT
prep_fetch() {
  [ -z "$FSERVER" ] || { kill "$FSERVER" && wait "$FSERVER" || true; } 2>/dev/null
  start_serve "$BZ/fport" -latency "$FETCH_LATENCY"
  FSERVER=$SERVED
  sed "s|$BASE_URL|http://127.0.0.1:$(cat "$BZ/fport")/|g" "$BZ/lock.json" >"$WS/apko.lock.json"
  [ -n "${FETCH_KEEP_CACHE:-}" ] || rm -rf "$RC"
}
fetch_row() {
  local name=$1
  shift
  BAZEL_COMMAND=fetch bazel_row "$name" prep_fetch //:image --repository_cache="$RC" "$PREBUILT" "$@"
}
FETCH_LATENCY=0s fetch_row "bazel: fetch 100 package repositories, local server, empty repository cache"
FETCH_LATENCY=0s FETCH_KEEP_CACHE=1 fetch_row "bazel: fetch 100 package repositories, every download in the repository cache"
FETCH_LATENCY=20ms fetch_row "bazel: fetch 100 package repositories, 20 ms a request, empty repository cache"
FETCH_LATENCY=20ms fetch_row "bazel: the same with --loading_phase_threads=16 (Bazel fetches that many repositories at once)" --loading_phase_threads=16
# apko from the same kind of server (not --offline): the lock's packages, repository and
# key at http URLs, its cache empty before each run.
FETCH_LATENCY=20ms prep_fetch
mkdir -p "$A/net"
python3 - "$IN" "$A/net" "http://127.0.0.1:$(cat "$BZ/fport")/" <<'PY'
import json, sys
inp, out, base = sys.argv[1:]
open(out + "/apko.yaml", "w").write(open(inp + "/apko.yaml").read().replace(inp + "/", base))
d = json.load(open(inp + "/apko.lock.json"))
for e in d["contents"]["packages"] + d["contents"]["repositories"] + d["contents"].get("keyring", []):
    e["url"] = base + e["url"]
json.dump(d, open(out + "/apko.lock.json", "w"), indent=2)
PY
OB='' MEASURE_FRESH="$A/apko-cache-net" measure_median "apko build, 20 ms a request (packages from the server, not --offline)" "$A/apko-net.tar" \
  bash -c "cd '$A/net' && apko build --sbom=false --arch x86_64 --cache-dir '$A/apko-cache-net' --lockfile apko.lock.json apko.yaml bench:latest '$A/apko-net.tar'"
kill "$FSERVER" 2>/dev/null || true
cp "$BZ/lock.json" "$WS/apko.lock.json"
B fetch "$PREBUILT" //:image >/dev/null 2>&1

# ---------------------------------------------------------------- targets, paired
# Each target's ratio again, from runs of its two sides taken in turn (A B A B ...): this
# host's speed drifts by a quarter from one minute to the next, and rows measured minutes
# apart carry that drift into their ratio. A paired row is the median of the per-pair ratios
# (their range in brackets) beside each side's median.
prows=()
# pair_median EXPR: over the pairs of the last paired call ($W/pa, $W/pb side by side: A's
# wall, CPU, RSS, elapsed in $1-$4, B's in $5-$8), the median of the awk expression EXPR,
# then the lowest and the highest.
pair_median() {
  paste -d' ' "$W/pa" "$W/pb" | awk "{printf \"%.3f\\n\", $1}" | sort -n |
    awk '{r[NR] = $1} END {print r[int((NR + 1) / 2)], r[1], r[NR]}'
}
# paired NAME SIDE_A SIDE_B: RUNS pairs, A's runs in $W/pa, B's in $W/pb; a SIDE is a function
# that runs its command once through run_timed into the file it is given (any preparation
# before, not measured).
paired() {
  local name=$1 a=$2 b=$3 wa ca wb cb r rlo rhi c
  rm -f "$W/pa" "$W/pb"
  for _ in $(seq "$RUNS"); do
    "$a" "$W/pa"
    "$b" "$W/pb"
  done
  read -r wa ca _ < <(median "$W/pa")
  read -r wb cb _ < <(median "$W/pb")
  read -r r rlo rhi < <(pair_median '$5 / $1')
  read -r c _ < <(pair_median '$6 / $2')
  prows+=("$(printf '| %s | %.2f (%.2f) | %.2f (%.2f) | %.2f [%.2f–%.2f] | %.2f |' "$name" "$wa" "$ca" "$wb" "$cb" "$r" "$rlo" "$rhi" "$c")")
  log "paired: $name: B/A ${r} (wall), ${c} (CPU)"
}
side_apko() {
  local OB=
  rm -rf "$A/apko-cache" "$A/apko.tar"
  run_timed "$1" "${apko_build[@]}"
}
side_clean() { bazel_run "$1" prep_clean //:image --disk_cache="$DC" "$PREBUILT"; }
side_clean_nodc() { bazel_run "$1" prep_clean //:image --disk_cache= "$PREBUILT"; }
prep_noop_again() { noop_again_with "$PREBUILT"; }
side_noop() { bazel_run "$1" prep_noop_again //:image --disk_cache="$DC" "$PREBUILT"; }
side_changed() {
  bazel_run "$1" prep_prebuilt_changed //:image --disk_cache="$DC" "$PREBUILT"
  cp "$BZ/lock.json" "$WS/apko.lock.json"
}
side_floor() { local OB=; run_timed "$1" "${apk_floor[@]}"; }
side_worker() { local OB=; run_timed "$1" "${worker_verbs[@]}"; }
paired "1. clean build, prebuilt wharf (B) vs apko build (A)" side_apko side_clean
read -r clean _ < <(median "$W/pb")
paired "1. the same without a disk cache (B) vs apko build (A)" side_apko side_clean_nodc
paired "3. one package changed (B) vs no-op (A), prebuilt wharf" side_noop side_changed
# Target 3 is the difference over a clean build: the median of the per-pair differences.
read -r t3 _ < <(pair_median '$5 - $1')
# Bazel's floor for targets 1 and 3 (the replay tool): what no tool can make faster.
side_replay_nodc() { bazel_run "$1" prep_clean //:image --disk_cache= "$REPLAY"; }
prep_replay_noop() { noop_again_with "$REPLAY"; }
side_replay_noop() { bazel_run "$1" prep_replay_noop //:image --disk_cache="$DC" "$REPLAY"; }
side_replay_changed() {
  bazel_run "$1" prep_replay_changed //:image --disk_cache="$DC" "$REPLAY"
  cp "$BZ/lock.json" "$WS/apko.lock.json"
}
paired "1. Bazel's floor without a disk cache (B: replay) vs apko build (A)" side_apko side_replay_nodc
paired "3. Bazel's floor: one package changed (B) vs no-op (A), replay" side_replay_noop side_replay_changed
read -r t3floor _ < <(pair_median '$5 - $1')
paired "2. wharf verbs in one worker (B) vs the floor (A)" side_floor side_worker
if [ -z "${BENCH_SKIP_LAYERS:-}" ]; then
  side_gnu_zstd() { local OB=; run_timed "$1" "${gnu_zstd[@]}"; }
  side_wharf_zstd() { local OB=; run_timed "$1" "${wharf_zstd[@]}"; }
  side_gnu_small() { local OB=; run_timed "$1" "${gnu_small[@]}"; }
  side_wharf_small() { local OB=; run_timed "$1" "${wharf_small[@]}"; }
  warm "$IN/big" "$IN/small"
  paired "5. 1 GiB zstd layer, wharf (B) vs GNU tar + zstd -3 (A)" side_gnu_zstd side_wharf_zstd
  paired "5. 100,000 files as a gzip layer, wharf (B) vs GNU tar + gzip -6 (A)" side_gnu_small side_wharf_small
fi
B shutdown >/dev/null 2>&1 || true
OB=

# apko for the five and fifty images: each build does all of the packages' work again.
measure "apko build ×5 (5 images of one lock, offline)" /nonexistent bash -c "cd '$IN' && for i in 1 2 3 4 5; do apko build --offline --sbom=false --arch x86_64 --cache-dir '$A/apko-cache5' --lockfile apko.lock.json apko.yaml bench:latest '$A/apko5.tar' >/dev/null; done"
if [ "${BENCH_APKO50:-1}" = 1 ]; then
  measure "apko build ×50 (50 images of one lock, offline)" /nonexistent bash -c "cd '$IN' && for i in \$(seq 50); do apko build --offline --sbom=false --arch x86_64 --cache-dir '$A/apko-cache50' --lockfile apko.lock.json apko.yaml bench:latest '$A/apko50.tar' >/dev/null; done"
fi

echo
echo "rules_wharf benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(go version | cut -d' ' -f3), apko ${APKO_VERSION:-(version unknown)}"
echo
echo "| what | wall s | CPU s | max RSS MB | output bytes | Bazel's elapsed s |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "Bazel rows: the median of $RUNS runs (their range of wall times in brackets); wall time of the"
echo "client (tools/bazel: chroot wrapper + Bazel client); CPU of the Bazel server with its actions"
echo "and persistent workers (from /proc); last column: the \"Elapsed time\" Bazel reports."
echo
echo "Targets from paired runs ($RUNS pairs, A and B in turn; seconds, CPU in parentheses):"
echo
echo "| target | A: median s (CPU) | B: median s (CPU) | B/A wall, median of pairs [range] | B/A CPU |"
echo "|---|---:|---:|---:|---:|"
printf '%s\n' "${prows[@]}"
echo
echo "Target 3: one package changed minus the no-op, median of the pairs: ${t3} s," \
  "$(echo "scale=1; 100 * $t3 / $clean" | bc)% of the paired clean build (${clean} s);" \
  "Bazel's floor for it (replay): ${t3floor} s, $(echo "scale=1; 100 * $t3floor / $clean" | bc)%."
