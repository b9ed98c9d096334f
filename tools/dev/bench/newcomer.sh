#!/usr/bin/env bash
# tools/dev/bench/newcomer.sh DIR -- what a newcomer waits for, with every cache empty: a clone of
# this checkout and, under DIR, a new tools/bazel cache (its Bazel and offline registry), Go
# module cache, Go build cache, output bases and repository caches. Times, one run each:
#   provision          tools/bazel --version: Bazel 7.7.1 and the offline registry (only on
#                      machines without a Bazel; others skip it)
#   examples           the README's `tools/bazel build //examples/...` in the clone: the
#                      checkout always builds wharf from source (rules_go, Go SDK, go.mod deps)
#   user, prebuilt     a user's module on a release (archive and binary from a local HTTP
#                      server): `bazel build //:image` of the example lock and a Go program
#   user, from source  the same module with rules_wharf_tools and from_source = True
# The README's other command, tools/test, is CI's: its time is in CI's log (.ci/run).
# Network: the Go module proxy (from-source builds) and Debian's mirror (provisioning).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
D=${1:?usage: tools/dev/bench/newcomer.sh DIR (emptied first)}
mkdir -p "$D"
D=$(cd "$D" && pwd)
rm -rf "$D"
mkdir -p "$D"
export WHARF_CACHE=$D/cache GOMODCACHE=$D/gomod GOCACHE=$D/gocache WHARF_BIND=$D
export PATH=/usr/local/go/bin:$PATH
git clone -q "$root" "$D/main"
B=$D/main/tools/bazel

row() { printf '| %s | %s |\n' "$1" "$2"; }
timed() { # name log command...: runs it, prints its row, keeps its output in the log
  local name=$1 log=$2 t0 t1
  shift 2
  t0=$(date +%s.%N)
  "$@" >"$log" 2>&1 || {
    echo "$name failed; tail of $log:" >&2
    tail -20 "$log" >&2
    exit 1
  }
  t1=$(date +%s.%N)
  row "$name" "$(printf '%.1f s' "$(echo "$t1 - $t0" | bc)")"
}

echo "tools/dev/bench/newcomer.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '| step | wall |'
echo '|---|---:|'
cd "$D/main"
timed "provision (tools/bazel --version)" "$D/provision.log" "$B" --version
timed "examples: tools/bazel build //examples/... (from source)" "$D/examples.log" "$B" build //examples/...
"$B" shutdown >/dev/null 2>&1

# A release of the clone, served as GitHub would serve it.
version=0.0.0-newcomer
go run ./tools/dev/release -version "$version" -platforms linux/amd64 -allow-dirty -out "$D/serve/v$version" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$D/serve" >"$D/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1
base=http://127.0.0.1:$port
archive=rules_wharf-v$version.tar.gz
integrity=sha256-$(openssl dgst -sha256 -binary "$D/serve/v$version/$archive" | base64 -w0)
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -o "$D/hello" ./examples/hello

user_module() { # dir extra-module-lines
  local ws=$D/$1
  mkdir -p "$ws"
  cat >"$ws/MODULE.bazel" <<EOF
module(name = "newcomer")

bazel_dep(name = "rules_wharf", version = "0.0.0")
archive_override(
    module_name = "rules_wharf",
    integrity = "$integrity",
    strip_prefix = "rules_wharf-$version",
    urls = ["$base/v$version/$archive"],
)

wharf = use_extension("@rules_wharf//toolchain:extensions.bzl", "wharf")
$2

apk = use_extension("@rules_wharf//apk:extensions.bzl", "apk")
apk.translate_lock(name = "base", lock = "//:apko.lock.json")
use_repo(apk, "base")
EOF
  sed "s|\"../apk_repo/|\"file://$D/main/examples/apk_repo/|" examples/hello_image/apko.lock.json >"$ws/apko.lock.json"
  cp "$D/hello" "$ws/hello"
  cat >"$ws/BUILD.bazel" <<'EOF'
load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_layer")

oci_layer(name = "app", files = {":hello": "/usr/bin/hello"}, modes = {"/usr/bin/hello": "0755"})

oci_image(
    name = "image",
    apks = "@base",
    entrypoint = ["/usr/bin/hello"],
    layers = [":app"],
)
EOF
  printf 'common --repository_cache=%s\n' "$ws/repository-cache" >"$ws/.bazelrc"
}

user_module user-prebuilt "wharf.toolchain(base_url = \"$base\")"
user_module user-source "wharf.toolchain(from_source = True)

bazel_dep(name = \"rules_wharf_tools\", version = \"0.0.0\")
archive_override(
    module_name = \"rules_wharf_tools\",
    integrity = \"$integrity\",
    strip_prefix = \"rules_wharf-$version/tools\",
    urls = [\"$base/v$version/$archive\"],
)

bazel_dep(name = \"rules_go\", version = \"0.60.0\")

go_sdk = use_extension(\"@rules_go//go:extensions.bzl\", \"go_sdk\")
go_sdk.host()  # offline here; online, rules_go downloads its default SDK

bazel_dep(name = \"gazelle\", version = \"0.43.0\")

go_deps = use_extension(\"@gazelle//:extensions.bzl\", \"go_deps\")
go_deps.gazelle_default_attributes(directives = [\"gazelle:proto disable\"])  # offline only"
for m in user-prebuilt user-source; do
  cd "$D/$m"
  # No disk cache (on the command line: tools/bazel's rc file comes after .bazelrc): its
  # shared one would serve these builds the example build's actions.
  timed "user, ${m#user-}: bazel build //:image" "$D/$m.log" "$B" build --disk_cache= //:image
  row "user, ${m#user-}: repositories in external/" "$(ls "$("$B" info output_base 2>/dev/null)/external" | grep -vc '\.marker$')"
  "$B" shutdown >/dev/null 2>&1
done
cmp -s "$D/user-prebuilt/bazel-bin/image.digest" "$D/user-source/bazel-bin/image.digest" ||
  echo "the prebuilt and from-source images differ" >&2
echo
echo "image $(cat "$D/user-prebuilt/bazel-bin/image.digest") from both"
