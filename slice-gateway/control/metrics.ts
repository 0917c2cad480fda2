/**
 * The gateway's Prometheus metrics (SPEC §8). Byte, packet and drop counts live in the data
 * path; they are read at scrape time (`collect`), so the packet path never touches prom-client.
 *
 *   slicenet_gateway_bytes_total{slice, peer_cluster, direction}     tx | rx
 *   slicenet_gateway_packets_total{slice, peer_cluster, direction}   tx | rx, datagrams
 *   slicenet_gateway_drops_total{slice, reason}
 *   slicenet_gateway_peer_up{slice, peer_cluster}                    1 while a session is up and answers
 *   slicenet_gateway_handshake_age_seconds{slice, peer_cluster}
 *   slicenet_gateway_rtt_seconds{slice, peer_cluster}                histogram, one sample per poll
 *   slicenet_gateway_active{slice}                                   1 on the replica that carries traffic
 *   slicenet_gateway_takeovers_total{slice}                          times this replica became active
 *
 * A data path restarted (a new active term) starts its counts at zero: Prometheus reads that as
 * a counter reset, which `rate()` handles.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Tunnel, TunnelPeerStatus } from './tunnel.ts';

/** The per-peer figures exported as counters by direction. */
type PeerCount = 'txBytes' | 'rxBytes' | 'txPackets' | 'rxPackets';

export class GatewayMetrics {
  private tunnel: Tunnel | undefined;
  private readonly rtt: Histogram<'slice' | 'peer_cluster'>;
  private readonly active: Gauge<'slice'>;
  private readonly takeovers: Counter<'slice'>;
  private readonly handshakes = new Map<string, number>();
  /**
   * Peers the last poll judged lost (control/health.ts: sent to, silent for 15 s). The data path
   * calls a session up until its keys expire, 3 minutes on; peer_up follows the judgement, as the
   * Slice status and the PeerLost event do.
   */
  private readonly lost = new Set<string>();

  constructor(
    registry: Registry,
    private readonly slice: string,
  ) {
    const peers = (): TunnelPeerStatus[] => this.tunnel?.peerStatus() ?? [];
    const drops = (): Record<string, number> => this.tunnel?.drops() ?? {};
    const lost = this.lost;
    // Per peer cluster and direction, read from the data path's figures at each scrape.
    const perPeer = (name: string, help: string, tx: PeerCount, rx: PeerCount): void => {
      new Counter({
        name,
        help,
        labelNames: ['slice', 'peer_cluster', 'direction'],
        registers: [registry],
        collect() {
          this.reset();
          for (const p of peers()) {
            this.inc({ slice, peer_cluster: p.cluster, direction: 'tx' }, p[tx]);
            this.inc({ slice, peer_cluster: p.cluster, direction: 'rx' }, p[rx]);
          }
        },
      });
    };
    perPeer(
      'slicenet_gateway_bytes_total',
      'Bytes through the tunnel to each peer cluster, by direction (tx, rx), inner frames and tunnel overhead included as the data path counts them.',
      'txBytes',
      'rxBytes',
    );
    perPeer(
      'slicenet_gateway_packets_total',
      'Datagrams through the tunnel to each peer cluster, by direction: sent (transport and handshakes), authenticated transport received.',
      'txPackets',
      'rxPackets',
    );
    new Counter({
      name: 'slicenet_gateway_drops_total',
      help: 'Datagrams and frames the gateway dropped, by reason.',
      labelNames: ['slice', 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(drops())) this.inc({ slice, reason }, n);
      },
    });
    new Gauge({
      name: 'slicenet_gateway_peer_up',
      help: '1 while a session with the peer cluster is up.',
      labelNames: ['slice', 'peer_cluster'],
      registers: [registry],
      collect() {
        this.reset();
        for (const p of peers())
          this.set({ slice, peer_cluster: p.cluster }, p.connected && !lost.has(p.cluster) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'slicenet_gateway_handshake_age_seconds',
      help: "Seconds since the current session's handshake with the peer cluster.",
      labelNames: ['slice', 'peer_cluster'],
      registers: [registry],
      collect() {
        this.reset();
        for (const p of peers())
          if (p.handshakeAgeMs !== undefined)
            this.set({ slice, peer_cluster: p.cluster }, p.handshakeAgeMs / 1000);
      },
    });
    this.rtt = new Histogram({
      name: 'slicenet_gateway_rtt_seconds',
      help: 'Round-trip time of the tunnel to each peer cluster, measured on every handshake.',
      labelNames: ['slice', 'peer_cluster'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
    this.active = new Gauge({
      name: 'slicenet_gateway_active',
      help: '1 on the replica that holds the Lease and carries the traffic.',
      labelNames: ['slice'],
      registers: [registry],
    });
    this.active.set({ slice }, 0);
    this.takeovers = new Counter({
      name: 'slicenet_gateway_takeovers_total',
      help: 'Times this replica became the active one.',
      labelNames: ['slice'],
      registers: [registry],
    });
  }

  /** The data path to read from while active; undefined on a standby. */
  attach(tunnel: Tunnel | undefined): void {
    this.tunnel = tunnel;
    this.active.set({ slice: this.slice }, tunnel ? 1 : 0);
    this.handshakes.clear();
    this.lost.clear();
    if (tunnel) this.takeovers.inc({ slice: this.slice });
  }

  /**
   * One poll's samples, as judged by PeerHealth: an RTT is observed once per handshake, which is
   * when it is measured, and a peer judged lost reads as down.
   */
  sample(peers: readonly TunnelPeerStatus[]): void {
    this.lost.clear();
    for (const p of peers) if (!p.connected) this.lost.add(p.cluster);
    for (const p of peers) {
      if (p.rttMs === undefined || this.handshakes.get(p.cluster) === p.handshakes) continue;
      this.handshakes.set(p.cluster, p.handshakes);
      this.rtt.observe({ slice: this.slice, peer_cluster: p.cluster }, p.rttMs / 1000);
    }
  }
}
