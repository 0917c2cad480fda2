#!/usr/bin/env bash
# What `npm run bench:dns` needs beyond Node, idempotently: Debian's dnsmasq (the comparison
# server), dnsperf (the load generator) and dig (the check that both serve the same records).
set -euo pipefail

log() { printf '[bench:dns setup] %s\n' "$*" >&2; }

wanted=(dnsmasq-base dnsperf dnsutils)
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
