#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go wrapper modules beside this
# script, with the ordinary go client through the Go module proxy, into
#   ${KRUISE_CACHE:-$HOME/.cache/kubectl-kruise}/bin/<component>-<version>/
# A component whose folder exists is not built again (the folder appears only when its
# build finished: it is built in a temporary folder and renamed).
#
# It also fetches the Gateway API CRDs (standard channel) the cluster installs when it comes
# up, from the Go module sigs.k8s.io/gateway-api (its config/crd/standard/), into
#   ${KRUISE_CACHE:-$HOME/.cache/kubectl-kruise}/crds/gateway-api-<version>/
#
# usage: build.sh [kubernetes|etcd|kwok|gateway-api|all]...    (default: all)
# Prints one line per component: <component> <folder> (built|cached) [seconds].
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KRUISE_CACHE:-${HOME}/.cache/kubectl-kruise}
mkdir -p "$cache/bin" "$cache/crds"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
command -v go >/dev/null || { echo "build.sh: no 'go' on PATH: install Go >= 1.24 (the harness builds Kubernetes from Go modules)" >&2; exit 1; }

K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.7.0
# The newest Gateway API release whose module Go 1.24 (the project's minimum) downloads: v1.5
# needs Go 1.25, v1.6 Go 1.26. Its HTTPRoute serves v1 (storage) and v1beta1 (what Kruise
# Rollout v0.6.2 uses).
GATEWAY_API_VERSION=v1.4.1
# The module's hash as the checksum database has it (go.sum's h1:): what we install is pinned.
GATEWAY_API_SUM=h1:NPxFutNkKNa8UfLd2CMlEuhIPMQgDQ6DXNKG9sHbJU8=

build() { # component version module-dir ldflags packages...
  local comp=$1 ver=$2 mod=$3 ldflags=$4; shift 4
  local out="$cache/bin/$comp-$ver"
  if [ -d "$out" ]; then echo "$comp $out cached"; return; fi
  local tmp="$out.partial.$$" start=$SECONDS
  rm -rf "$tmp"; mkdir -p "$tmp"
  ( cd "$here/$mod" && go build -trimpath -ldflags "$ldflags" -o "$tmp/" "$@" ) \
    || { rm -rf "$tmp"; echo "build.sh: building $comp $ver failed (see the go output above)" >&2; exit 1; }
  # go names a binary after the package path, minus a /vN suffix: etcd's is "server".
  if [ "$comp" = etcd ]; then mv "$tmp/server" "$tmp/etcd"; fi
  mv "$tmp" "$out"
  echo "$comp $out built $((SECONDS - start))s"
}

# The CRD files of the standard channel, as upstream ships them, unchanged. Only the CRDs:
# releases from v1.5 also ship there a ValidatingAdmissionPolicy (safe-upgrades), which only
# guards later installs of these CRDs and would be one more policy on every CRD write.
fetch_gateway_api() {
  local comp=gateway-api ver=$GATEWAY_API_VERSION
  local out="$cache/crds/$comp-$ver"
  if [ -d "$out" ]; then echo "$comp $out cached"; return; fi
  local tmp="$out.partial.$$" start=$SECONDS json dir sum
  # Outside any module (the cache folder), so no go.mod is read or changed.
  json=$(cd "$cache" && GOWORK=off go mod download -json "sigs.k8s.io/gateway-api@$ver") \
    || { echo "build.sh: downloading sigs.k8s.io/gateway-api@$ver failed: $json" >&2; exit 1; }
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  sum=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  if [ "$sum" != "$GATEWAY_API_SUM" ]; then
    echo "build.sh: sigs.k8s.io/gateway-api@$ver has hash '$sum', expected $GATEWAY_API_SUM" >&2; exit 1
  fi
  rm -rf "$tmp"; mkdir -p "$tmp"
  local f n=0
  for f in "$dir"/config/crd/standard/*.yaml; do
    grep -q '^kind: CustomResourceDefinition$' "$f" || continue
    cp "$f" "$tmp/" && n=$((n + 1))
  done
  chmod -R u+w "$tmp"
  if [ "$n" -eq 0 ]; then rm -rf "$tmp"; echo "build.sh: no CRDs in $dir/config/crd/standard" >&2; exit 1; fi
  mv "$tmp" "$out"
  echo "$comp $out built $((SECONDS - start))s"
}

k8s_ldflags() {
  local v=${K8S_VERSION#v} date
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local major=${v%%.*} rest=${v#*.}; local minor=${rest%%.*}
  local f="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    f+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  echo "$f"
}

want=("$@"); [ ${#want[@]} -gt 0 ] || want=(all)
for w in "${want[@]}"; do
  case $w in
    kubernetes|all) build kubernetes "$K8S_VERSION" k8s "$(k8s_ldflags)" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ;;&
    etcd|all) build etcd "$ETCD_VERSION" etcd "-s -w" go.etcd.io/etcd/server/v3 ;;&
    kwok|all) build kwok "$KWOK_VERSION" kwok "-s -w" sigs.k8s.io/kwok/cmd/kwok ;;&
    gateway-api|all) fetch_gateway_api ;;&
    kubernetes|etcd|kwok|gateway-api|all) ;;
    *) echo "build.sh: unknown component '$w' (kubernetes, etcd, kwok, gateway-api or all)" >&2; exit 2 ;;
  esac
done
