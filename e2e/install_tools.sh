#!/usr/bin/env bash
# Installs what the end-to-end test uses, idempotently: a registry (Debian's
# docker-registry, htpasswd from apache2-utils), umoci, runc, podman, skopeo, containerd (with ctr) and keytool (e2e/pull_verify_test.go trusts its https front with it) from apt, crane,
# syft, cosign, apko and container-structure-test (pinned) built with the host Go (tools/dev/gotool.sh), and bazel-remote
# (e2e/rbe/provision.sh). The four builds run at once, beside apt: on a fresh machine their
# module downloads overlap, and so do one's download and another's compile and link.
# Prints nothing when everything is present. Tools land in $WHARF_CACHE/bin.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GOTOOL=$here/../tools/dev/gotool.sh
CRANE_VERSION=v0.22.1
SYFT_VERSION=v1.38.0
# The apko the equivalence tests compare with (tools/internal/apk/apktest/apkooracle), also
# what TestMigratingFromRulesApko runs as Renovate's apko manager does.
APKO_VERSION=v1.2.39
# apko v1.2.39 requires a go-erofs pseudo-version that does not build; v0.3.1 does.
APKO_REPLACE=github.com/erofs/go-erofs=github.com/erofs/go-erofs@v0.3.1
# cosign, the oracle of signing (e2e/signing_test.go): v2 is the line whose verify reads
# key-signed signatures and attestations without a transparency log (--insecure-ignore-tlog).
COSIGN_VERSION=v2.6.5
# container-structure-test, whose tar driver TestStructureTestAgreesWithCST compares with.
CST_VERSION=v1.22.1

pids=() names=()
start() {
  names+=("$1")
  shift
  "$@" &
  pids+=($!)
}
start crane "$GOTOOL" crane github.com/google/go-containerregistry "$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane
start syft "$GOTOOL" syft github.com/anchore/syft "$SYFT_VERSION" github.com/anchore/syft/cmd/syft
start apko "$GOTOOL" apko chainguard.dev/apko "$APKO_VERSION" chainguard.dev/apko "$APKO_REPLACE"
start container-structure-test "$GOTOOL" container-structure-test github.com/GoogleContainerTools/container-structure-test "$CST_VERSION" github.com/GoogleContainerTools/container-structure-test/cmd/container-structure-test
start cosign "$GOTOOL" cosign github.com/sigstore/cosign/v2 "$COSIGN_VERSION" github.com/sigstore/cosign/v2/cmd/cosign
# bazel-remote, the remote cache the push tests take layers from.
start bazel-remote "$here/rbe/provision.sh" bazel-remote

failed=()
need=()
for p in docker-registry:docker-registry htpasswd:apache2-utils umoci:umoci runc:runc podman:podman skopeo:skopeo containerd:containerd keytool:openjdk-17-jre-headless; do
  command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "[install_tools] apt-get install ${need[*]}" >&2
  # tools/test runs this beside Bazel's provisioning, which may install debootstrap: wait
  # for apt's lock rather than fail on it.
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    failed+=("apt-get install ${need[*]}")
fi

for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
done
[ "${#failed[@]}" = 0 ] || {
  echo "[install_tools] failed: ${failed[*]}" >&2
  exit 1
}
