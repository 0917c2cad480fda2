/**
 * Kubernetes events on the Slice for what an operator wants to see of the tunnels (SPEC §8):
 * a peer connected or lost (from the connected state of successive polls, so a flapping data
 * path event and a poll never both report one change), a peer's address changing, failed
 * handshakes (at most one event a minute per peer), and which replica became active.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { EventType } from '../../lib/kube/events.ts';
import type { TunnelEvent, TunnelPeerStatus } from './tunnel.ts';

export type Emit = (type: EventType, reason: string, message: string) => void;

export const Reasons = {
  PeerConnected: 'PeerConnected',
  PeerLost: 'PeerLost',
  PeerEndpointChanged: 'PeerEndpointChanged',
  HandshakeFailed: 'HandshakeFailed',
  GatewayActive: 'GatewayActive',
} as const;

const HANDSHAKE_EVENT_EVERY_MS = 60_000;

export class PeerEvents {
  private readonly connected = new Map<string, boolean>();
  private readonly lastFailure = new Map<string, number>();

  constructor(
    private readonly emit: Emit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Compares a poll with the previous one; emits one event per change. */
  observe(peers: readonly TunnelPeerStatus[]): void {
    const seen = new Set<string>();
    for (const p of peers) {
      seen.add(p.cluster);
      const was = this.connected.get(p.cluster) ?? false;
      this.connected.set(p.cluster, p.connected);
      if (p.connected && !was)
        this.emit(
          'Normal',
          Reasons.PeerConnected,
          `tunnel to cluster ${p.cluster} is up (${p.endpoint ?? 'endpoint unknown'})`,
        );
      else if (!p.connected && was)
        this.emit('Warning', Reasons.PeerLost, `tunnel to cluster ${p.cluster} is down`);
    }
    for (const c of [...this.connected.keys()]) if (!seen.has(c)) this.connected.delete(c);
  }

  /** Events the data path reports between polls. */
  onTunnelEvent(e: TunnelEvent): void {
    if (e.type === 'endpoint-changed') {
      this.emit(
        'Normal',
        Reasons.PeerEndpointChanged,
        `cluster ${e.cluster}'s gateway is now reached at ${e.endpoint ?? '?'}`,
      );
    } else if (e.type === 'handshake-failed') {
      const last = this.lastFailure.get(e.cluster);
      if (last !== undefined && this.now() - last < HANDSHAKE_EVENT_EVERY_MS) return;
      this.lastFailure.set(e.cluster, this.now());
      this.emit(
        'Warning',
        Reasons.HandshakeFailed,
        `handshake with cluster ${e.cluster} failed (${e.endpoint ?? 'no endpoint'})`,
      );
    }
  }

  /** A new active term: every peer counts as not connected until the next poll says otherwise. */
  reset(): void {
    this.connected.clear();
  }

  /** This replica became the active one. */
  emitActive(message: string): void {
    this.emit('Normal', Reasons.GatewayActive, message);
  }
}

/** An Emit bound to one object through an EventRecorder-like sink. */
export function emitOn(
  sink: { emit(obj: KubernetesObject, type: EventType, reason: string, message: string): void },
  obj: () => KubernetesObject | undefined,
): Emit {
  return (type, reason, message) => {
    const o = obj();
    if (o) sink.emit(o, type, reason, message);
  };
}
