#!/usr/bin/env bash
# Builds the real-engine tools (issue 7) from pinned Go modules into a cache outside the repository, skipping
# what is already built:  ${EDGECLOUD_TOOLS_CACHE:-~/.cache/edgecloud-tools}/<version-key>/bin
#
#   bash scripts/build-tools.sh                 # stage 1 and 2
#   bash scripts/build-tools.sh --stage 1       # pulumi, pulumi-language-nodejs (+ plugin probes)
#   bash scripts/build-tools.sh --stage 2       # kube-apiserver, kubectl (+ plugin probes)
#   bash scripts/build-tools.sh --stage nodes   # kube-controller-manager, kube-scheduler, kube-proxy, kubelet
#                                               # (the lab's real nodes, issue 15; same k8s.io/kubernetes pin)
#   bash scripts/build-tools.sh --stage etcd    # etcd, etcdctl, etcdutl from go.etcd.io/etcd (the version the
#                                               # library pins; the lab's etcd members install it "prestaged")
#   bash scripts/build-tools.sh --stage distribution # registry from github.com/distribution/distribution/v3 (the
#                                               # version the in-cluster Registry pins; the lab's registry pod)
#   bash scripts/build-tools.sh --print-bin-dir # where the binaries are (or will be); builds nothing
#
# Each tool is a module of its own under tools/ (their dependency graphs conflict), with go.mod + go.sum
# committed, so a build reads nothing but the Go module proxy. Build times are printed and kept in
# <version-key>/build-times.tsv. Provider plugins whose modules the proxy does not serve are probed and
# reported as UNAVAILABLE with the proxy's answer; nothing is ever downloaded from elsewhere.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${EDGECLOUD_TOOLS_CACHE:-$HOME/.cache/edgecloud-tools}
JOBS=${EDGECLOUD_TOOLS_JOBS:-2}

stage=all
print_bin_dir=0
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --print-bin-dir) print_bin_dir=1; shift ;;
    *) echo "build-tools: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$stage" in 1 | 2 | nodes | etcd | distribution | all) ;; *) echo "build-tools: --stage must be 1, 2, nodes, etcd, distribution or all" >&2; exit 2 ;; esac

# --- the pinned versions (the go.mod files are the source of truth; these name the cache entry) ---
mod_version() { # <tools dir> <module path> -> the version that tools/<dir>/go.mod requires
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$ROOT/tools/$1/go.mod"
}
PULUMI_VERSION=$(mod_version pulumi github.com/pulumi/pulumi/pkg/v3)
NODEJS_HOST_VERSION=$(mod_version language-nodejs github.com/pulumi/pulumi/sdk/v3)
KUBERNETES_VERSION=$(mod_version kubernetes k8s.io/kubernetes)
ETCD_VERSION=$(mod_version etcd go.etcd.io/etcd/server/v3)
DISTRIBUTION_VERSION=$(mod_version distribution github.com/distribution/distribution/v3)
GO_VERSION=$(go env GOVERSION)
HASH=$(cat "$ROOT"/tools/*/go.mod "$ROOT"/tools/*/go.sum | { cat; echo "$GO_VERSION"; } | sha256sum | cut -c1-10)
KEY="pulumi-${PULUMI_VERSION}_nodejs-${NODEJS_HOST_VERSION}_k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_distribution-${DISTRIBUTION_VERSION}_${GO_VERSION}_${HASH}"
BIN="$CACHE/$KEY/bin"

if [ "$print_bin_dir" = 1 ]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$BIN"
TIMES="$CACHE/$KEY/build-times.tsv"
export GOFLAGS="-buildvcs=false -mod=readonly"
export GOTOOLCHAIN=local
# The module proxy only: never fall back to fetching sources from their VCS hosts ("direct").
GOPROXY=$(go env GOPROXY | tr '|' ',' | tr ',' '\n' | grep -v -x -e direct -e off | paste -sd, -)
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
export CGO_ENABLED=0

# build <tools dir> <package> <binary> <extra ldflags>
build() {
  local dir=$1 pkg=$2 bin=$3 ldflags=$4
  if [ -x "$BIN/$bin" ]; then
    echo "build-tools: $bin already built ($BIN/$bin)"
    return 0
  fi
  echo "build-tools: building $bin from $pkg (tools/$dir, -p $JOBS) ..."
  local start end tmp
  start=$(date +%s)
  tmp="$BIN/.$bin.tmp.$$"
  (cd "$ROOT/tools/$dir" && go build -p "$JOBS" -trimpath -ldflags "-s -w $ldflags" -o "$tmp" "$pkg")
  mv -f "$tmp" "$BIN/$bin"
  end=$(date +%s)
  echo "build-tools: built $bin in $((end - start))s"
  printf '%s\t%s\t%ss\t%s\n' "$bin" "$pkg" "$((end - start))" "$(date -u +%FT%TZ)" >>"$TIMES"
}

# probe <module@version> <binary>: a provider plugin we would build, if the proxy served its module.
probe() {
  local modver=$1 bin=$2 out dir
  if [ -x "$BIN/$bin" ]; then return 0; fi
  dir=$(mktemp -d)
  out=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "$modver" 2>&1) || true
  rm -rf "$dir"
  if grep -q '"Error"' <<<"$out" || ! grep -q '"Zip"' <<<"$out"; then
    echo "build-tools: UNAVAILABLE $bin: the Go module proxy does not serve $modver:"
    grep -o '"Error": *"[^"]*"' <<<"$out" | sed 's/^/build-tools:   /' || echo "build-tools:   $out"
  else
    echo "build-tools: $modver is served now: add a tools/ module for $bin (see tools/README.md)"
  fi
}

npm_version() { node -p "require('$ROOT/package.json').dependencies['$1'].replace(/^[^0-9]*/, '')"; }

SDK_NPM_VERSION=$(npm_version @pulumi/pulumi)
if [ "v$SDK_NPM_VERSION" != "$PULUMI_VERSION" ]; then
  echo "build-tools: note: CLI $PULUMI_VERSION, npm @pulumi/pulumi $SDK_NPM_VERSION: the Go module proxy refuses pkg/v3 v$SDK_NPM_VERSION (see tools/README.md)"
fi

minor=${KUBERNETES_VERSION#v1.}
K8S_LDFLAGS="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1"
K8S_LDFLAGS="$K8S_LDFLAGS -X k8s.io/component-base/version.gitMinor=${minor%%.*} -X k8s.io/component-base/version.gitTreeState=clean"

total_start=$(date +%s)
if [ "$stage" = 1 ] || [ "$stage" = all ]; then
  build pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
  build language-nodejs github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs pulumi-language-nodejs \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$NODEJS_HOST_VERSION"
  probe "github.com/pulumi/pulumi-command/provider@v$(npm_version @pulumi/command)" pulumi-resource-command
  # Drone's own substitution, parser and linter for the example pipeline (examples/ci-pipeline)
  build drone-lint . drone-lint ""
fi
if [ "$stage" = 2 ] || [ "$stage" = all ]; then
  build kubernetes k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver \
    "$K8S_LDFLAGS"
  build kubernetes k8s.io/kubernetes/cmd/kubectl kubectl "$K8S_LDFLAGS"
  probe "github.com/pulumi/pulumi-kubernetes/provider/v4@v$(npm_version @pulumi/kubernetes)" pulumi-resource-kubernetes
fi
# The lab's real nodes (issue 15): the rest of the control plane and the node agents, from the same pin as
# kube-apiserver (one Kubernetes version: a second one would cost another cold build and module download).
if [ "$stage" = nodes ] || [ "$stage" = all ]; then
  build kubernetes k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$K8S_LDFLAGS"
  build kubernetes k8s.io/kubernetes/cmd/kube-scheduler kube-scheduler "$K8S_LDFLAGS"
  build kubernetes k8s.io/kubernetes/cmd/kube-proxy kube-proxy "$K8S_LDFLAGS"
  build kubernetes k8s.io/kubernetes/cmd/kubelet kubelet "$K8S_LDFLAGS"
fi
# etcd for the lab's etcd members (issue 15 item 6): the version the library pins by default (DEFAULT_ETCD_VERSION),
# built from its Go modules (etcd-io/etcd v3.5.17: server/, etcdctl/, etcdutl/ are the three main packages its
# scripts/build_lib.sh builds); test/lab/etcd-prestaged.ts packs them as the release tarball layout.
if [ "$stage" = etcd ] || [ "$stage" = all ]; then
  ETCD_LDFLAGS="-X go.etcd.io/etcd/api/v3/version.GitSHA=edgecloud-build-tools"
  build etcd go.etcd.io/etcd/server/v3 etcd "$ETCD_LDFLAGS"
  build etcd go.etcd.io/etcd/etcdctl/v3 etcdctl "$ETCD_LDFLAGS"
  build etcd go.etcd.io/etcd/etcdutl/v3 etcdutl "$ETCD_LDFLAGS"
fi
# the in-cluster Registry's distribution (issue 15): the lab builds its pod's image from this binary. Version flags
# as upstream's Makefile sets them (distribution/distribution v3.0.0 Makefile GO_LDFLAGS: version.version,
# version.mainpkg).
if [ "$stage" = distribution ] || [ "$stage" = all ]; then
  DIST_PKG=github.com/distribution/distribution/v3
  build distribution "$DIST_PKG/cmd/registry" registry \
    "-X $DIST_PKG/version.version=$DISTRIBUTION_VERSION -X $DIST_PKG/version.mainpkg=$DIST_PKG"
fi
# what was built answers (a broken binary fails here, not in the middle of a test)
[ -x "$BIN/pulumi" ] && echo "build-tools: pulumi $(PULUMI_HOME="$CACHE/$KEY/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true "$BIN/pulumi" version)"
[ -x "$BIN/kube-apiserver" ] && echo "build-tools: $("$BIN/kube-apiserver" --version)"
for b in kube-controller-manager kube-scheduler kube-proxy kubelet; do
  if [ -x "$BIN/$b" ]; then echo "build-tools: $b $("$BIN/$b" --version 2>&1 | head -1)"; fi
done
[ -x "$BIN/registry" ] && echo "build-tools: $("$BIN/registry" --version)"
[ -x "$BIN/etcd" ] && echo "build-tools: $("$BIN/etcd" --version | head -1)"
[ -x "$BIN/kubectl" ] && echo "build-tools: kubectl $("$BIN/kubectl" version --client -o json | node -p 'JSON.parse(require("fs").readFileSync(0)).clientVersion.gitVersion')"
echo "build-tools: done in $(($(date +%s) - total_start))s; binaries in $BIN"
