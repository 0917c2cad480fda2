#!/usr/bin/env bash
# Builds the addon from source with node-gyp against the Node headers already installed
# (/usr/include/node, which also carries Node's OpenSSL headers): nothing is downloaded.
# Quick when build/Release/slicenet_native.node is newer than every source; --force rebuilds.
# Builds are serialised by a lock: test files that load the addon in parallel would otherwise
# run two `node-gyp rebuild`s into the same build/ directory, each deleting the other's output.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/build/Release/slicenet_native.node"
log() { printf '[native] %s\n' "$*" >&2; }

exec 9>"$here/.build.lock"
flock 9

if [[ "${1:-}" != --force && -f "$out" ]] &&
  [[ -z "$(find "$here/src" "$here/binding.gyp" -newer "$out" -print -quit)" ]]; then
  exit 0
fi
# The headers live next to the node binary's prefix (/usr/bin/node -> /usr/include/node).
nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")}"
if [[ ! -f "$nodedir/include/node/node_api.h" || ! -f "$nodedir/include/node/openssl/evp.h" ]]; then
  log "no Node headers under $nodedir/include/node: set npm_config_nodedir to Node's install prefix"
  exit 1
fi
for tool in cc make python3; do
  command -v "$tool" >/dev/null || { log "$tool is missing: apt-get install build-essential python3"; exit 1; }
done
gyp="$here/../node_modules/.bin/node-gyp"
[[ -x "$gyp" ]] || { log "node-gyp is missing: run npm install first"; exit 1; }
log "building the addon against $nodedir/include/node"
"$gyp" rebuild --directory "$here" --nodedir "$nodedir" --jobs 2 --loglevel warn >&2
log "built $out"
