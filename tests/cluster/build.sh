#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go wrapper modules beside this
# script, with the ordinary go client through the Go module proxy, into
#   ${KRUISE_CACHE:-$HOME/.cache/kubectl-kruise}/bin/<component>-<version>/
# A component whose folder exists is not built again (the folder appears only when its
# build finished: it is built in a temporary folder and renamed).
#
# usage: build.sh [kubernetes|etcd|kwok|all]...    (default: all)
# Prints one line per component: <component> <folder> (built|cached) [seconds].
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KRUISE_CACHE:-${HOME}/.cache/kubectl-kruise}
mkdir -p "$cache/bin"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
command -v go >/dev/null || { echo "build.sh: no 'go' on PATH: install Go >= 1.24 (the harness builds Kubernetes from Go modules)" >&2; exit 1; }

K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.7.0

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
    kubernetes|etcd|kwok|all) ;;
    *) echo "build.sh: unknown component '$w' (kubernetes, etcd, kwok or all)" >&2; exit 2 ;;
  esac
done
