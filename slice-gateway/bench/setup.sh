#!/usr/bin/env bash
# What `npm run bench:gateway` needs beyond Node, idempotently: the Debian packages of the
# comparison paths and the measurements (OpenVPN, iperf3, ping, tcpdump, nftables, ethtool,
# iproute2, openssl), and the gateway's native addon, compiled from source (native/build.sh
# returns at once when the build is current).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[bench:gateway setup] %s\n' "$*" >&2; }

wanted=(openvpn iperf3 iputils-ping tcpdump nftables ethtool iproute2 openssl util-linux
  build-essential python3)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

bash "$here/../../native/build.sh"
