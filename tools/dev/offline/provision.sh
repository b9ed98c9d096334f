#!/usr/bin/env bash
# provision.sh -- give this machine (Debian/amd64, root, no Bazel Central Registry) a working
# Bazel 7.7.1 with bzlmod, rules_go, gazelle and buildtools, fully offline.
#
#   1. debootstrap Debian sid into $WHARF_CACHE/sid (sid's bazel-bootstrap needs glibc >= 2.38);
#   2. apt-get install bazel-bootstrap and Debian's packaged Bazel modules inside it;
#   3. take rules_go, gazelle and buildtools from the Go module proxy (they are Go modules);
#   4. add the stand-in modules bazel_tools needs offline (apple_support, protobuf, zlib,
#      buildozer) -- they exist only in the generated registry, never in MODULE.bazel;
#   5. generate a file:// registry over all of it and a system bazelrc that uses only it.
#
# Idempotent and safe to interrupt: every step leaves a marker only when it completed, and
# a half-finished step is redone. Called by tools/bazel; can be run by hand.
# Network: Debian's apt mirror (debootstrap default) and `go env GOPROXY` only.
set -euo pipefail

CACHE=${WHARF_CACHE:-$HOME/.cache/rules_wharf}
ROOT=$CACHE/sid
SUITE=${WHARF_SID_SUITE:-sid}
RULES_GO_VERSION=v0.60.0
GAZELLE_VERSION=v0.43.0
# buildtools has no usable semver tag on the proxy; this is the pseudo-version gazelle
# v0.43.0 vendors. Keep in sync with tools/go.mod.
BUILDTOOLS_VERSION=v0.0.0-20240918101019-be1c24cc9a44
PKGS=(bazel-bootstrap bazel-skylib bazel-platforms bazel-features
  bazel-rules-cc bazel-rules-java bazel-rules-proto bazel-rules-python
  bazel-rules-shell bazel-rules-pkg bazel-rules-license bazel-java-tools
  bazel-lib bazel-aspect-bazel-lib bazel-stardoc)
MODS_IN=/usr/local/share/wharf-modules # paths as seen inside the chroot
REG_IN=/usr/local/share/wharf-registry
MODS=$ROOT$MODS_IN
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Bump when this script changes in a way that needs steps 3-5 redone.
RECIPE=4

log() { printf '[wharf-provision %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, mount namespaces)"
GO=$(command -v go || echo /usr/local/go/bin/go)
[ -x "$GO" ] || die "need a host Go toolchain (go on PATH or /usr/local/go/bin/go)"
mkdir -p "$CACHE"
T0=$(date +%s)

# Run a command inside the chroot in a throw-away mount namespace.
in_chroot() {
  unshare --mount --propagation private -- /bin/bash -c '
    r=$1; shift
    mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"; mount --rbind /sys "$r/sys"
    exec chroot "$r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' wharf "$ROOT" "$@"
}

# ------------------------------------------------------------------ 1. debootstrap sid
if [ ! -e "$ROOT/.wharf-debootstrap-ok" ]; then
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    # tools/test runs e2e/install_tools.sh beside this: wait for apt's lock rather than fail.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null
  fi
  if grep -q " $ROOT/" /proc/mounts; then die "something is mounted under $ROOT; run 'tools/bazel --wharf-teardown' first"; fi
  if [ -e "$ROOT" ]; then
    # only ever delete a tree this script started itself
    [ -e "$ROOT/.wharf-debootstrap-started" ] || [ -z "$(ls -A "$ROOT")" ] ||
      die "$ROOT exists and was not made by this script; remove it first"
    log "removing half-finished $ROOT"
    rm -rf --one-file-system "$ROOT"
  fi
  mkdir -p "$ROOT"
  touch "$ROOT/.wharf-debootstrap-started"
  log "debootstrap --variant=minbase $SUITE (about a minute)"
  debootstrap --variant=minbase "$SUITE" "$ROOT" >"$CACHE/debootstrap.log" 2>&1 ||
    {
      tail -20 "$CACHE/debootstrap.log" >&2
      die "debootstrap failed (log: $CACHE/debootstrap.log)"
    }
  touch "$ROOT/.wharf-debootstrap-ok"
fi

# ------------------------------------------------------------------ 2. apt in the chroot
# The mirror's sid Release file may be past Valid-Until (frozen snapshot): accept it.
echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99wharf-no-valid-until"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod +x "$ROOT/usr/sbin/policy-rc.d"
cp -fL /etc/resolv.conf "$ROOT/etc/resolv.conf"
missing=$(chroot "$ROOT" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' "${PKGS[@]}" 2>/dev/null |
  awk '$1=="ii"{print $2}' | sort | comm -13 - <(printf '%s\n' "${PKGS[@]}" | sort) || true)
if [ -n "$missing" ]; then
  log "apt-get install in the chroot: $(echo $missing)"
  in_chroot apt-get update -qq
  in_chroot apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >"$CACHE/apt.log" 2>&1 ||
    {
      tail -30 "$CACHE/apt.log" >&2
      die "apt-get install failed (log: $CACHE/apt.log)"
    }
  in_chroot apt-get clean
fi
chroot "$ROOT" test -x /usr/bin/bazel || die "bazel is not installed in $ROOT"
mkdir -p "$ROOT/etc/ssl/certs"
# The Go proxy may sit behind a CA only the host trusts.
cp -fL /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"

stamp="$RECIPE $RULES_GO_VERSION $GAZELLE_VERSION $BUILDTOOLS_VERSION $(md5sum "$HERE/gen_registry.py" | cut -c1-12)"
if [ "$(cat "$MODS/.wharf-ok" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

# ------------------------------------------------------------------ 3. Go-module sources
mkdir -p "$MODS"
fetch_module() { # name module version
  local name=$1 mod=$2 ver=$3 dest=$MODS/$1 src
  if [ "$(cat "$dest/.wharf-source" 2>/dev/null)" = "$mod@$ver" ]; then return; fi
  log "fetching $mod@$ver from the Go module proxy"
  src=$(cd / && "$GO" mod download -json "$mod@$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -n "$src" ] && [ -d "$src" ] || die "go mod download $mod@$ver failed"
  rm -rf "$dest" "$dest.tmp"
  cp -a "$src" "$dest.tmp"
  chmod -R u+w "$dest.tmp"
  # Go module zips carry no file modes: give scripts (#!) their exec bit back.
  find "$dest.tmp" -type f -size -1024k -print0 | while IFS= read -r -d '' f; do
    if [ "$(head -c2 "$f")" = '#!' ]; then chmod +x "$f"; fi
  done
  if [ "$name" = gazelle ]; then
    # go_repository builds fetch_repo from vendor/, which release tarballs have and module zips lack.
    (cd "$dest.tmp" && "$GO" mod vendor) || die "go mod vendor for gazelle failed"
  fi
  echo "$mod@$ver" >"$dest.tmp/.wharf-source"
  mv "$dest.tmp" "$dest"
}
fetch_module rules_go github.com/bazelbuild/rules_go "$RULES_GO_VERSION"
fetch_module gazelle github.com/bazelbuild/bazel-gazelle "$GAZELLE_VERSION"

# ------------------------------------------------------------------ 4. stand-in modules
# bazel_tools of Bazel 7.7.1 bazel_deps on these; Debian ships none of them.
for m in apple_support protobuf zlib buildozer; do
  mkdir -p "$MODS/$m"
  echo "module(name = \"$m\")" >"$MODS/$m/MODULE.bazel"
done
: >"$MODS/apple_support/BUILD.bazel"
: >"$MODS/protobuf/BUILD.bazel" # no protoc: go_proto_library cannot work offline
cat >"$MODS/zlib/BUILD.bazel" <<'EOF'
cc_library(
    name = "zlib",
    linkopts = ["-lz"],
    visibility = ["//visibility:public"],
)
EOF
if [ "$(cat "$MODS/buildozer/bin/.version" 2>/dev/null)" != "$BUILDTOOLS_VERSION" ]; then
  log "building buildozer + buildifier $BUILDTOOLS_VERSION"
  tmpmod=$(mktemp -d)
  (
    cd "$tmpmod" && printf 'module tool\n\ngo 1.24\n' >go.mod &&
      GOFLAGS=-mod=mod "$GO" get "github.com/bazelbuild/buildtools@$BUILDTOOLS_VERSION" >/dev/null 2>&1 &&
      CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" build -trimpath -ldflags='-s -w' -o "$MODS/buildozer/bin/" \
        github.com/bazelbuild/buildtools/buildozer github.com/bazelbuild/buildtools/buildifier
  ) || die "building buildozer/buildifier failed"
  rm -rf "$tmpmod"
  echo "$BUILDTOOLS_VERSION" >"$MODS/buildozer/bin/.version"
fi
ln -sf "$MODS_IN/buildozer/bin/buildozer" "$ROOT/usr/local/bin/buildozer"
ln -sf "$MODS_IN/buildozer/bin/buildifier" "$ROOT/usr/local/bin/buildifier"
echo 'exports_files(["bin/buildozer", "bin/buildifier"])' >"$MODS/buildozer/BUILD.bazel"
cat >"$MODS/buildozer/buildozer_binary.bzl" <<'EOF'
"""Offline stand-in for the BCR `buildozer` module (used by `bazel mod tidy`)."""

def _repo_impl(rctx):
    rctx.symlink(rctx.attr.binary, "buildozer.exe")
    rctx.file("BUILD.bazel", 'exports_files(["buildozer.exe"])\n')

_repo = repository_rule(implementation = _repo_impl, attrs = {"binary": attr.label(allow_single_file = True)})

def _impl(module_ctx):
    _repo(name = "buildozer_binary", binary = Label("//:bin/buildozer"))
    return module_ctx.extension_metadata(reproducible = True)

buildozer_binary = module_extension(
    implementation = _impl,
    tag_classes = {"buildozer": tag_class(attrs = {"sha256": attr.string_dict(), "version": attr.string()})},
)
EOF

# @remote_coverage_tools (Bazel's Java coverage merger) is a download: plain LCOV concatenation.
C=$MODS/coverage_tools
mkdir -p "$C"
: >"$C/REPO.bazel"
cat >"$C/BUILD.bazel" <<'EOF'
sh_binary(name = "lcov_merger", srcs = ["lcov_merger.sh"], visibility = ["//visibility:public"])
EOF
cat >"$C/lcov_merger.sh" <<'EOF'
#!/bin/bash
dir= out=
for a in "$@"; do case $a in --coverage_dir=*) dir=${a#*=};; --output_file=*) out=${a#*=};; esac; done
[ -n "$out" ] || exit 0
: >"$out"
[ -z "$dir" ] || find "$dir" -type f \( -name '*.dat' -o -name '*.info' \) ! -path "$out" -exec cat {} + >>"$out"
exit 0
EOF
chmod +x "$C/lcov_merger.sh"

# Debian's rules_java 7.6.5 names the local JDK after its repository's name past the last
# "~", which Bazel 8's "+" (--incompatible_use_plus_in_repo_names, the default from 8 on)
# defeats: no runtime then matches --java_runtime_version=local_jdk. Patched in place (Debian's
# /etc/bazel/bazelrc overrides the module to that tree) to split on both, as rules_java 8
# does, and to register the local JDK's compile toolchains itself, first: a
# --extra_toolchains label would name the repository by its canonical name, which differs
# between the two.
J=$ROOT/usr/share/bazel/rules/java
sed -i 's/repository_ctx\.name\.split("~")\[-1\]$/&.split("+")[-1]/' "$J/toolchains/local_java_repository.bzl"
grep -q '^register_toolchains("@local_jdk//:all")$' "$J/MODULE.bazel" ||
  sed -i 's|^register_toolchains("//toolchains:all")$|register_toolchains("@local_jdk//:all")\n&|' "$J/MODULE.bazel"
grep -q 'split("~")\[-1\]\.split("+")\[-1\]$' "$J/toolchains/local_java_repository.bzl" &&
  grep -q '^register_toolchains("@local_jdk//:all")$' "$J/MODULE.bazel" ||
  die "$J is not the rules_java the patches here are for: review them"

# ------------------------------------------------------------------ 5. registry + bazelrc
cp "$HERE/gen_registry.py" "$MODS/gen_registry.py"
dv() { chroot "$ROOT" dpkg-query -W -f '${Version}' "$1" | sed 's/-[^-]*$//; s/+.*//'; }
cat >"$MODS/registry.spec" <<EOF
platforms         /usr/share/bazel/tools/platforms         $(dv bazel-platforms)
bazel_skylib      /usr/share/bazel/tools/skylib            $(dv bazel-skylib)
bazel_features    /usr/share/bazel/tools/features          $(dv bazel-features)
rules_cc          /usr/share/bazel/rules/cc                $(dv bazel-rules-cc)
rules_java        /usr/share/bazel/rules/java              $(dv bazel-rules-java)
rules_license     /usr/share/bazel/rules/license           $(dv bazel-rules-license)
rules_proto       /usr/share/bazel/rules/proto             $(dv bazel-rules-proto)
rules_python      /usr/share/bazel/rules/python            $(dv bazel-rules-python)
rules_shell       /usr/share/bazel/rules/shell             $(dv bazel-rules-shell)
rules_pkg         /usr/share/bazel/rules/pkg               $(dv bazel-rules-pkg)
stardoc           /usr/share/bazel/tools/stardoc           $(dv bazel-stardoc)
bazel_lib         /usr/share/bazel/tools/bazel_lib         $(dv bazel-lib)
aspect_bazel_lib  /usr/share/bazel/tools/aspect_bazel_lib  $(dv bazel-aspect-bazel-lib)
rules_go          $MODS_IN/rules_go        ${RULES_GO_VERSION#v}
gazelle           $MODS_IN/gazelle         ${GAZELLE_VERSION#v}
apple_support     $MODS_IN/apple_support   0.0.0
protobuf          $MODS_IN/protobuf        0.0.0
zlib              $MODS_IN/zlib            0.0.0
buildozer         $MODS_IN/buildozer       0.0.0
EOF
log "generating the offline registry"
chroot "$ROOT" python3 "$MODS_IN/gen_registry.py" "$REG_IN" "$MODS_IN/registry.spec" >"$CACHE/registry.log" 2>&1 ||
  {
    cat "$CACHE/registry.log" >&2
    die "registry generation failed"
  }

MA=$(chroot "$ROOT" dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
cat >"$ROOT/etc/bazel.bazelrc" <<EOF
# rules_wharf offline provisioning: bzlmod against the generated local registry only.
common --registry=file://$REG_IN
# WORKSPACE mode would download rules_cc etc. (Bazel's WORKSPACE suffix): off here.
common --noenable_workspace
# Java (stardoc): Debian's JDK and packaged java_tools instead of downloaded ones. Each
# repository by its canonical name in Bazel 7 (~) and 8 (+): Bazel ignores the other.
common --override_repository=rules_java~~toolchains~remote_java_tools=/usr/lib/$MA/bazel/java_tools
common --override_repository=rules_java~~toolchains~remote_java_tools_linux=/usr/lib/$MA/bazel/java_tools
common --override_repository=rules_java++toolchains+remote_java_tools=/usr/lib/$MA/bazel/java_tools
common --override_repository=rules_java++toolchains+remote_java_tools_linux=/usr/lib/$MA/bazel/java_tools
build --java_runtime_version=local_jdk
build --tool_java_runtime_version=local_jdk
common --override_repository=bazel_tools~remote_coverage_tools_extension~remote_coverage_tools=$MODS_IN/coverage_tools
common --override_repository=bazel_tools+remote_coverage_tools_extension+remote_coverage_tools=$MODS_IN/coverage_tools
EOF
cat >"$ROOT/root/.bazelrc" <<'EOF'
# Debian sets `build --sandbox_debug`, which keeps every sandbox on disk.
build --nosandbox_debug
EOF
echo "$stamp" >"$MODS/.wharf-ok"
log "provisioned in $(($(date +%s) - T0)) s: $(in_chroot bazel --version 2>/dev/null || true), rules_go $RULES_GO_VERSION, gazelle $GAZELLE_VERSION"
