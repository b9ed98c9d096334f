#!/usr/bin/env bash
# tools/dev/bench/lib.sh -- helpers run.sh and scale.sh share; sourced, not run. They read
# root (the checkout), W (the work directory), IN (the generated inputs), OB (a Bazel row's output base, empty
# for other rows), WS (the Bazel workspace) and BASE_URL (the package server's).

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# For Bazel rows ($OB set), CPU is the Bazel server's with its actions: its own, its reaped
# children's and its live persistent workers' (utime + stime (+ cutime + cstime), /proc),
# not the client's.
server_cpu() {
  local p t=0 w
  p=$(pgrep -f -- "--output_base=${OB:-/nonexistent}( |$)" | head -1) || true
  if [ -n "$p" ] && [ -r "/proc/$p/stat" ]; then
    t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat")
    for w in $(pgrep -P "$p" -f -- --persistent_worker || true); do
      t=$((t + $(awk '{print $14 + $15}' "/proc/$w/stat" 2>/dev/null || echo 0)))
    done
  fi
  echo "scale=2; $t / 100" | bc
}
# run_timed OUT CMD...: runs CMD once and appends "wall cpu rss_kb" to OUT.
run_timed() {
  local out=$1 cpu0 cpu
  shift
  cpu0=$(server_cpu)
  /usr/bin/time -f '%e %U %S %M' -o "$W/time" "$@" >/dev/null 2>"$W/stderr" || {
    cat "$W/stderr" >&2
    log "FAILED: $*"
    exit 1
  }
  read -r wall user sys rss <"$W/time"
  # Bazel rows: also Bazel's own "Elapsed time" (the client wall minus it is tools/bazel's
  # chroot wrapper and the client's start).
  local inner=-
  if [ -n "${OB:-}" ]; then
    cpu=$(echo "$(server_cpu) - $cpu0" | bc)
    inner=$(grep -o 'Elapsed time: [0-9.]*' "$W/stderr" | tail -1 | grep -o '[0-9.]*$' || echo -)
  else
    cpu=$(echo "$user + $sys" | bc)
  fi
  echo "$wall $cpu $rss $inner" >>"$out"
}

# median FILE: the line of FILE ("wall cpu rss elapsed" lines) with the median wall time,
# then the lowest and highest wall time.
median() {
  sort -n "$1" | awk '{w[NR] = $1; l[NR] = $0} END {m = int((NR + 1) / 2); print l[m], w[1], w[NR]}'
}

# start_serve PORT_FILE [FLAGS...]: the package server on a port of its own, written to
# PORT_FILE once it listens; its pid in SERVED.
start_serve() {
  local port_file=$1
  shift
  rm -f "$port_file"
  "$W/serve" -dir "$IN" -port-file "$port_file" "$@" &
  SERVED=$!
  for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
}

# httplock SRC DST: the lock with every package URL made absolute under $BASE_URL.
httplock() {
  python3 - "$1" "$2" "$BASE_URL" <<'PY'
import json, sys
src, dst, base = sys.argv[1:]
d = json.load(open(src))
for p in d["contents"]["packages"]:
    p["url"] = base + p["url"]
json.dump(d, open(dst, "w"), indent=2)
PY
}

# toolchain_package DIR: registers $WS/DIR/wharf as the wharf toolchain //DIR:toolchain.
toolchain_package() {
  cat >"$WS/$1/BUILD.bazel" <<EOF
load("@rules_wharf//toolchain:toolchain.bzl", "wharf_toolchain")
wharf_toolchain(name = "$1", wharf = "wharf")
toolchain(name = "toolchain", toolchain = ":$1", toolchain_type = "@rules_wharf//toolchain:type")
EOF
}

# module_head NAME: the first lines of a bench workspace's MODULE.bazel: rules_wharf and its
# tools from this checkout, rules_go with the host's Go SDK (the offline registry has no SDK).
module_head() {
  cat <<EOF
module(name = "$1")
bazel_dep(name = "rules_wharf", version = "0.0.0")
local_path_override(module_name = "rules_wharf", path = "$root")
bazel_dep(name = "rules_wharf_tools", version = "0.0.0")
local_path_override(module_name = "rules_wharf_tools", path = "$root/tools")
bazel_dep(name = "rules_go", version = "0.60.0")
go_sdk = use_extension("@rules_go//go:extensions.bzl", "go_sdk")
go_sdk.host()
EOF
}

# prebuilt_and_bz: the release command's wharf for this machine in $WS/prebuilt, registered as
# //prebuilt:toolchain, and $W/bz: Bazel in $WS with the output base $OB (the exported OB
# when it runs, else this call's), its paths bound into tools/bazel's chroot.
prebuilt_and_bz() {
  mkdir -p "$WS/prebuilt"
  rm -rf "$W/release"
  (cd "$root" && go run ./tools/dev/release -version 0.0.0-bench -platforms linux/amd64 -allow-dirty -out "$W/release" >/dev/null)
  cp "$W/release/wharf-linux-amd64" "$WS/prebuilt/wharf"
  toolchain_package prebuilt
  cat >"$W/bz" <<EOF
#!/usr/bin/env bash
cd "$WS" && WHARF_BIND="$root $IN $BZ" exec "$root/tools/bazel" --output_base="\${OB:-$OB}" "\$@"
EOF
  chmod +x "$W/bz"
}
