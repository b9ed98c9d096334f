#!/usr/bin/env bash
# oci_load's run script with fake docker, podman and nerdctl on PATH (no daemon or
# containerd runs here; e2e/load_test.go loads into real podman and containerd): each
# records its arguments and answers `info`, `load`, `tag` and `image inspect` as told by
# FAKE_* variables. Checks the command lines, the CLI chosen, the platform chosen, the
# summary and every refusal's message.
set -euo pipefail
dir=$(cd "$(dirname "$1")" && pwd)
prefix=$dir/$(basename "$1")
prefix=${prefix%_image_load.sh} # .../load_test
tmp=${TEST_TMPDIR:-$(mktemp -d)}
# The tools the run script needs, and nothing else: no real podman or docker.
base=$tmp/base
mkdir -p "$base"
for t in bash sed awk tr mktemp rm cat uname printf; do ln -sf "$(command -v "$t")" "$base/$t"; done

fake() { # fake NAME: a CLI recording "NAME ARGS" to $tmp/calls
  cat >"$tmp/fakes/$1" <<'EOF'
#!/usr/bin/env bash
name=${0##*/}
echo "$name $*" >>"$CALLS"
while [[ $1 == --* ]]; do shift 2; done # global flags: --flag VALUE
case $1 in
  info) exit "${FAKE_INFO_RC:-0}" ;;
  load | images) if [[ -n ${FAKE_LOAD_ERR:-} ]]; then echo "$FAKE_LOAD_ERR" >&2; exit 125; fi ;;
  image) echo "$FAKE_INSPECT" ;;
esac
EOF
  chmod +x "$tmp/fakes/$1"
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# run_load CASE PATH_DIRS [ARGS...]: runs CASE's run script; sets out, err, rc, calls.
run_load() {
  local case=$1 path=$2
  shift 2
  export CALLS=$tmp/calls
  : >"$CALLS"
  rc=0
  PATH=$path:$base "${prefix}_${case}_load.sh" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
  calls=$(cat "$CALLS")
}

expect() { # expect WHAT GOT WANT: GOT equals WANT
  [[ $2 == "$3" ]] || fail "$1:"$'\n'"got:  $2"$'\n'"want: $3"
}

contains() { # contains WHAT GOT WANT: GOT holds WANT
  [[ $2 == *"$3"* ]] || fail "$1: $(printf '%q' "$2") lacks $(printf '%q' "$3")"
}

fact() { # fact STEM KEY: the value of KEY in the facts of the tarball load_test_STEM.tar
  sed -n "s/^$2 //p" "${prefix}_$1.load.txt"
}

mkdir -p "$tmp/fakes" "$tmp/docker_only" "$tmp/nerdctl_only"
for c in docker podman nerdctl; do fake "$c"; done
ln -sf "$tmp/fakes/docker" "$tmp/docker_only/docker"
ln -sf "$tmp/fakes/nerdctl" "$tmp/nerdctl_only/nerdctl"
host=$(uname -m)
case $host in x86_64) host=amd64 ;; aarch64) host=arm64 ;; esac
rel=oci/private/tests

# docker (its daemon answers): loads the one tarball, tags the rest, reports the image ID.
export FAKE_INSPECT="id $(fact image_load config)"
run_load image "$tmp/fakes"
expect "docker rc ($err)" "$rc" 0
expect "docker calls" "$calls" "docker info
docker load -i $rel/load_test_image_load.tar
docker tag docker.io/wharf-test/load:a docker.io/wharf-test/load:b
docker tag docker.io/wharf-test/load:a registry.example:5000/team/load:c
docker image inspect --format id {{.ID}} docker.io/wharf-test/load:a"
expect "docker summary" "$(head -1 <<<"$out")" "oci_load //$rel:load_test_image_load: loaded linux/amd64 into docker as docker.io/wharf-test/load:a docker.io/wharf-test/load:b registry.example:5000/team/load:c"
contains "docker digests" "$out" "manifest $(fact image_load manifest), image ID $(fact image_load config) (docker reports: id $(fact image_load config))"

# docker's containerd store reports the manifest digest as the image ID: also the build's.
FAKE_INSPECT="id $(fact image_load manifest)" run_load image "$tmp/fakes"
expect "docker (containerd store) rc ($err)" "$rc" 0

# docker on PATH without a daemon: podman, global flags before the command.
FAKE_INFO_RC=1 FAKE_INSPECT="id $(fact image_load config) manifest $(fact image_load manifest)" run_load image "$tmp/fakes" --root /r
contains "podman calls" "$calls" "podman --root /r load -i $rel/load_test_image_load.tar
podman --root /r tag docker.io/wharf-test/load:a docker.io/wharf-test/load:b"
contains "podman inspect" "$calls" "podman --root /r image inspect --format id {{.ID}} manifest {{.Digest}} docker.io/wharf-test/load:a"
contains "podman summary" "$out" "into podman as"

# nerdctl alone on PATH, or named by cli: --platform of the image, global flags first.
run_load image "$tmp/nerdctl_only" --namespace k8s.io
contains "nerdctl auto" "$calls" "nerdctl --namespace k8s.io load --platform linux/amd64 -i $rel/load_test_image_load.tar"
run_load nerdctl "$tmp/fakes"
expect "cli = nerdctl calls" "$(head -1 <<<"$calls")" "nerdctl load --platform linux/amd64 -i $rel/load_test_nerdctl_load.tar"

# An index: the host's platform by default, the one --platform names, or the build's choice.
export FAKE_INSPECT="id $(fact index_load_linux_arm64_v8 config)"
run_load index "$tmp/docker_only" --platform linux/arm64
expect "index --platform rc ($err)" "$rc" 0
contains "index --platform" "$calls" "docker load -i $rel/load_test_index_load_linux_arm64_v8.tar"
contains "index --platform summary" "$out" "loaded linux/arm64/v8 into docker as docker.io/wharf-test/index:1"
FAKE_INSPECT="id $(fact index_load_linux_$host config)" run_load index "$tmp/docker_only"
contains "index host platform" "$calls" "docker load -i $rel/load_test_index_load_linux_$host.tar"
FAKE_INSPECT="id $(fact index_arm64_load config)" run_load index_arm64 "$tmp/docker_only"
contains "index platform attribute" "$calls" "docker load -i $rel/load_test_index_arm64_load.tar"
expect "the two arm64 tarballs load one image" "$(fact index_arm64_load manifest)" "$(fact index_load_linux_arm64_v8 manifest)"
# The one default tag.
FAKE_INSPECT="id $(fact default_load config)" run_load default "$tmp/docker_only"
contains "default tag" "$out" "as docker.io/bazel/oci/private/tests:load_test_image"

# Refusals, each with its message and no load.
run_load index "$tmp/docker_only" --platform linux/s390x
expect "missing platform rc" "$rc" 1
expect "missing platform" "$err" "oci_load //$rel:load_test_index_load: the index //$rel:load_test_index has no image for linux/s390x; it has linux/amd64, linux/arm64/v8 (choose one: bazel run //$rel:load_test_index_load -- --platform OS/ARCH)"
run_load image "$tmp/docker_only" --platform=linux/arm64
expect "an image's other platform" "$err" "oci_load //$rel:load_test_image_load: the image is linux/amd64, not linux/arm64"
run_load image "$tmp/empty"
expect "no runtime" "$err" "oci_load //$rel:load_test_image_load: no container runtime found: docker is not on PATH, and neither podman nor nerdctl is on PATH (put one on PATH, or set oci_load's cli)"
FAKE_INFO_RC=1 run_load image "$tmp/docker_only"
expect "no daemon" "$err" "oci_load //$rel:load_test_image_load: no container runtime found: docker is on PATH but \`docker info\` fails (is its daemon running?), and neither podman nor nerdctl is on PATH (put one on PATH, or set oci_load's cli)"
run_load nerdctl "$tmp/docker_only"
expect "cli not on PATH" "$err" "oci_load //$rel:load_test_nerdctl_load: nerdctl (oci_load's cli) is not on PATH"
FAKE_LOAD_ERR="Error: payload does not match any of the supported image formats" run_load image "$tmp/docker_only"
expect "runtime fails" "$err" "oci_load //$rel:load_test_image_load: \`docker load -i $rel/load_test_image_load.tar\` failed (exit 125):
Error: payload does not match any of the supported image formats"
FAKE_INSPECT="id sha256:0123" run_load image "$tmp/docker_only"
expect "other digest" "$err" "oci_load //$rel:load_test_image_load: docker reports id 0123 for docker.io/wharf-test/load:a, not the build's (config $(fact image_load config), manifest $(fact image_load manifest))"
FAKE_INSPECT="" run_load image "$tmp/docker_only"
expect "nothing reported" "$err" "oci_load //$rel:load_test_image_load: docker reports nothing for docker.io/wharf-test/load:a: no output"
run_load unstamped "$tmp/docker_only"
expect "unstamped" "$err" "oci_load //$rel:load_test_unstamped_load: the tags wharf-test/load:v{BUILD_EMBED_LABEL} have {KEY} placeholders, which only stamping expands: bazel run --stamp //$rel:load_test_unstamped_load"
expect "unstamped: nothing run" "$calls" ""
run_load index "$tmp/docker_only" --platform
expect "--platform without a value" "$err" "oci_load //$rel:load_test_index_load: --platform needs OS/ARCH, e.g. linux/arm64"
echo PASS
