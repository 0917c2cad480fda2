#!/usr/bin/env bash
# Installs everything the lab needs on a fresh Debian machine, idempotently:
#   - Debian packages: reference CNI plugins, iproute2, nftables, openssl, iperf3, tcpdump,
#     prometheus (the lab's Prometheus server and promtool, which the rules tests run);
#   - kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and etcd, built from
#     the Go modules pinned in lab/upstream (Kubernetes has replace directives, so it cannot be
#     `go install`ed directly);
#   - the Multus thin plugin, built from the pinned v4 release in lab/upstream/multus;
#   - the gateway's native addon (native/), compiled from source against Node's own headers.
# Binaries are cached outside the repository under $SLICENET_CACHE (default
# ~/.cache/slicenet), keyed by the pinned versions; a second run only checks stamps.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SLICENET_CACHE:-$HOME/.cache/slicenet}"
multus_version="$(awk '$1=="require"{print $3}' "$here/upstream/multus/go.mod")"
k8s_key="$(sha256sum "$here/upstream/go.mod" "$here/upstream/go.sum" | sha256sum | cut -c1-12)"
k8s_version="$(awk '$1=="k8s.io/kubernetes"{print $2}' "$here/upstream/go.mod")"
k8s_dir="$cache/upstream/kubernetes-$k8s_version-$k8s_key"
multus_dir="$cache/upstream/multus-$multus_version"

log() { printf '[setup] %s\n' "$*" >&2; }

install_packages() {
  local wanted=(containernetworking-plugins iproute2 nftables openssl iperf3 tcpdump
    iputils-ping netcat-openbsd procps util-linux ca-certificates build-essential python3
    openvpn ethtool dnsutils dnsmasq-base prometheus)
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build_kubernetes() {
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  if [[ -f "$k8s_dir/.complete" ]]; then return; fi
  log "building Kubernetes $k8s_version and etcd into $k8s_dir (first run: several minutes)"
  mkdir -p "$k8s_dir/bin"
  local start=$SECONDS
  (
    cd "$here/upstream"
    for c in "${cmds[@]}"; do
      CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$k8s_dir/bin/$c" "k8s.io/kubernetes/cmd/$c"
    done
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$k8s_dir/bin/etcd" go.etcd.io/etcd/server/v3
  )
  echo "$((SECONDS - start))" >"$k8s_dir/.build-seconds"
  touch "$k8s_dir/.complete"
  log "built Kubernetes in $((SECONDS - start)) s"
}

build_multus() {
  if [[ -f "$multus_dir/.complete" ]]; then return; fi
  log "building Multus $multus_version into $multus_dir"
  mkdir -p "$multus_dir/bin"
  local start=$SECONDS
  (cd "$here/upstream/multus" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' \
    -o "$multus_dir/bin/multus" gopkg.in/k8snetworkplumbingwg/multus-cni.v4/cmd/multus)
  echo "$((SECONDS - start))" >"$multus_dir/.build-seconds"
  touch "$multus_dir/.complete"
}

# One directory the lab reads: bin/ holds every upstream program, cni/ the CNI_PATH.
link_bin() {
  local out="$cache/bin" cni="$cache/cni"
  mkdir -p "$out" "$cni"
  for f in "$k8s_dir"/bin/*; do ln -sfn "$f" "$out/$(basename "$f")"; done
  ln -sfn "$multus_dir/bin/multus" "$out/multus"
  ln -sfn "$multus_dir/bin/multus" "$cni/multus"
  for p in /usr/lib/cni/*; do ln -sfn "$p" "$cni/$(basename "$p")"; done
  cat >"$cache/versions.json" <<EOF
{"kubernetes":"$k8s_version","etcd":"$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$here/upstream/go.mod")","multus":"$multus_version","cniPlugins":"$(dpkg-query -W -f='${Version}' containernetworking-plugins)","kubernetesBuildSeconds":$(cat "$k8s_dir/.build-seconds"),"multusBuildSeconds":$(cat "$multus_dir/.build-seconds")}
EOF
}

# native/build.sh returns at once when the .node file is newer than its sources.
build_native() {
  bash "$here/../native/build.sh"
}

# The slicenet CNI plugin as one bundled file (dist/cni/slicenet); the agent installs it into
# the CNI bin dir at start. A second of esbuild, so it is simply rebuilt every time.
build_cni() {
  (cd "$here/.." && node --import tsx worker-agent/cni/build.ts >/dev/null)
}

install_packages
build_multus
build_kubernetes
link_bin
build_native
build_cni
log "ready: $cache/bin ($(cat "$cache/versions.json"))"
