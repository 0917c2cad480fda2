/**
 * What the hub learns of this cluster's gateways for a slice: each replica's entry as it wrote
 * it in the local Slice, cut to what peers and the roll-up need — no byte counters, which change
 * every few seconds and would make every status write a hub write. One entry is active: of the
 * entries that say so, the one written last (a replica killed while active cannot take its
 * claim back; its successor writes on taking over). The active entry comes first, so peers try
 * its address first. Until a gateway has reported, a placeholder entry carries the public key,
 * so peers can be configured before the gateway runs.
 */
import type { GatewayStatus } from '../api/types.ts';

export function reportedGateways(
  local: readonly GatewayStatus[] | undefined,
  placeholder: { name: string; publicKey: string },
): GatewayStatus[] {
  const entries = (local ?? []).filter((g) => g.address && g.publicKey);
  if (entries.length === 0) return [{ ...placeholder }];
  const newestActive = entries
    .filter((g) => g.active)
    .sort((a, b) => (b.lastUpdateTime ?? '').localeCompare(a.lastUpdateTime ?? ''))[0]?.name;
  return entries
    .map((g): GatewayStatus => {
      const active = g.name === newestActive;
      const out: GatewayStatus = { name: g.name, address: g.address!, publicKey: g.publicKey!, active };
      if (g.node) out.node = g.node;
      if (active && g.peers) out.peers = g.peers.map((p) => ({ cluster: p.cluster, connected: p.connected }));
      return out;
    })
    .sort((a, b) => Number(b.active) - Number(a.active) || (a.name < b.name ? -1 : 1));
}
