/**
 * Pure translations between the Slice and the data path: which peers to tunnel to (from
 * Slice.spec.peers, as the hub distributed them) and this replica's entry in
 * Slice.status.gateways (from what the data path reports). No I/O, so both are unit-tested.
 */
import type { GatewayPeerStatus, GatewayStatus, Slice } from '../../controller/api/types.ts';
import { canonical } from '../../controller/hub/rollup.ts';
import { kubeTime } from '../../lib/kube/client.ts';
import type { TunnelPeer, TunnelPeerStatus } from './tunnel.ts';

/**
 * The peers the data path should have: those whose worker has reported a key. A peer with no
 * address (its gateways not running, or not reported yet) stays: it can still call us, and a
 * session that is up keeps its authenticated address until it fails.
 */
export function tunnelPeers(slice: Slice): TunnelPeer[] {
  const out: TunnelPeer[] = [];
  for (const p of slice.spec.peers ?? []) {
    if (!p.publicKey) continue;
    const arp = (p.endpoints ?? []).flatMap((e) => (e.mac ? [{ ip: e.ip, mac: e.mac }] : []));
    out.push({
      cluster: p.cluster,
      publicKey: p.publicKey,
      endpoints: [...(p.gatewayAddresses ?? [])],
      ...(arp.length ? { arp } : {}),
    });
  }
  return out.sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
}

/** Equal for peer sets the data path need not hear about again. */
export const peersKey = (peers: readonly TunnelPeer[]): string => canonical(peers);

/** What a change of the Slice means for a running data path. */
export function tunnelSettingsKey(slice: Slice): string {
  const { vni, mtu, gateway } = slice.spec;
  return canonical({ vni, mtu, port: gateway.port, cipher: gateway.cipher });
}

export interface EntryInput {
  pod: string;
  node: string;
  nodeIp: string;
  port: number;
  publicKey: string;
  active: boolean;
  peers?: readonly TunnelPeerStatus[];
  now?: Date;
}

/** This replica's entry in Slice.status.gateways. */
export function gatewayEntry(i: EntryInput): GatewayStatus {
  const now = i.now ?? new Date();
  const entry: GatewayStatus = {
    name: i.pod,
    node: i.node,
    address: `${i.nodeIp}:${i.port}`,
    publicKey: i.publicKey,
    active: i.active,
    lastUpdateTime: kubeTime(now),
  };
  if (i.active) entry.peers = (i.peers ?? []).map((p) => peerEntry(p, now));
  return entry;
}

function peerEntry(p: TunnelPeerStatus, now: Date): GatewayPeerStatus {
  const out: GatewayPeerStatus = {
    cluster: p.cluster,
    connected: p.connected,
    txBytes: Math.max(0, Math.trunc(p.txBytes)),
    rxBytes: Math.max(0, Math.trunc(p.rxBytes)),
  };
  if (p.endpoint) out.endpoint = p.endpoint;
  if (p.handshakeAgeMs !== undefined && Number.isFinite(p.handshakeAgeMs)) {
    out.handshakeAgeSeconds = Math.max(0, Math.floor(p.handshakeAgeMs / 1000));
    out.lastHandshakeTime = kubeTime(new Date(now.getTime() - p.handshakeAgeMs));
  }
  if (p.rttMs !== undefined && Number.isFinite(p.rttMs)) out.rttMs = Math.round(p.rttMs * 1000) / 1000;
  return out;
}

/** Which peers are connected: a change of it is written to the Slice at once. */
export const connectedKey = (peers: readonly TunnelPeerStatus[]): string =>
  peers
    .map((p) => `${p.cluster}=${p.connected ? 1 : 0}`)
    .sort()
    .join(',');
