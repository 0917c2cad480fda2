/**
 * The gateway's runtime facade: what the slicenet-gateway process (slice-gateway/main.ts) and
 * standalone.ts call. One call opens everything and starts the data path; the handle it
 * returns is the only way in afterwards.
 *
 * Contract
 * - `startGateway(opts)` validates `opts` (SlicenetError `BAD_CONFIG`/`BAD_MTU` naming the
 *   field, before any I/O), binds the UDP socket, creates the TAP `opts.tap.name`, sets its MTU
 *   (`tap.mtu`, default `sliceMtu`) and brings it up, enslaves it to `tap.bridge` if given (the
 *   bridge must exist; it is brought up), adds the peers and starts handshaking with each at
 *   once. It resolves when traffic flows; on any failure it undoes what it did and rejects
 *   (errno errors from the kernel: `EADDRINUSE`, `EPERM` without CAP_NET_ADMIN, …). The caller
 *   must be in the network namespace the gateway is to run in.
 * - `setPeers(peers)` replaces the peer list: new keys are added (and handshaken with),
 *   missing ones removed (their sessions wiped), a changed endpoint list applies at once unless
 *   the peer is connected (then its current, authenticated address stays until it fails).
 *   ARP answers are rebuilt from every peer's `arp`. Throws BAD_CONFIG for a bad list, changing
 *   nothing.
 * - `peerStatus()` is a snapshot per configured peer; `drops()` counts every dropped packet by
 *   reason since start (see counters.ts and protocol/drop-reason.ts for the reasons).
 * - `onEvent` (optional) is told of `peer-up`, `peer-down`, `endpoint-changed` (roaming) and
 *   `handshake-failed` (90 s without an answer; queued frames dropped), synchronously from the
 *   event loop: it must not throw or block.
 * - `close()` stops the data path, wipes the session keys, closes both fds and removes the TAP.
 *   Idempotent. Nothing else keeps the event loop alive.
 * Reader errors (the TAP deleted under us, the socket broken) are thrown as uncaught
 * exceptions: the process should die and be restarted, as a crash-only service.
 */
import { deleteLink, ipBatch } from '../../lib/net/ip.ts';
import { openTap, openUdp, TUN_F, type Tap, type UdpSocket } from '../../native/index.ts';
import { sameEndpoint } from '../protocol/actions.ts';
import { Device, type Action, type Clock } from '../protocol/index.ts';
import { ArpTable } from './arp.ts';
import {
  formatEndpoint,
  parseEndpoint,
  validateOptions,
  validatePeers,
  type GatewayOptions,
  type GatewayPeer,
} from './config.ts';
import { DropCounts } from './counters.ts';
import { Datapath } from './datapath.ts';
import { Forwarder } from './forwarder.ts';
import { Liveness } from './liveness.ts';

export type { GatewayOptions, GatewayPeer } from './config.ts';

export type GatewayEvent =
  | { type: 'peer-up' | 'peer-down'; cluster: string }
  | { type: 'endpoint-changed'; cluster: string; endpoint: string }
  | { type: 'handshake-failed'; cluster: string; droppedFrames: number };

export interface PeerStatus {
  cluster: string;
  /** A session that can send exists. */
  connected: boolean;
  /** Since the last completed handshake; undefined if none yet. */
  handshakeAgeMs?: number;
  /** The last handshake round trip (see traffic.ts); undefined until one was measured. */
  rttMs?: number;
  /** UDP payload bytes: transport and handshakes sent; authenticated transport received. */
  txBytes: number;
  rxBytes: number;
  /** Datagrams: sent (transport and handshakes); authenticated transport received. */
  txPackets: number;
  rxPackets: number;
  /** Sessions established since the peer was added (the first handshake and every rekey). */
  handshakes: number;
  /** The address in use, `a.b.c.d:port`; undefined when none is known. */
  endpoint?: string;
}

export interface StartOptions extends GatewayOptions {
  onEvent?: (e: GatewayEvent) => void;
}

export interface RunningGateway {
  /** Our static public key, base64: what peers put in their config. */
  readonly publicKey: string;
  /** The bound UDP port (useful with listen.port 0). */
  readonly port: number;
  setPeers(peers: GatewayPeer[]): void;
  peerStatus(): PeerStatus[];
  drops(): Record<string, number>;
  /** I/O since start, for metrics and tuning: packets read per wake-up show the batching achieved. */
  io(): GatewayIo;
  close(): Promise<void>;
}

export interface GatewayIo {
  /** Frames read from the TAP, and the reader's wake-ups. */
  tapFrames: number;
  tapWakeups: number;
  /** Of tapFrames, TCPv4 super-frames split into segments natively (offloads on; else 0). */
  tapSuperFrames: number;
  /** TCPv4 super-frames written to the TAP, each made of a run of received segments (offloads on; else 0). */
  tapSuperFramesWritten: number;
  /** Datagrams received, and the reader's wake-ups (one recvmmsg each). */
  udpDatagrams: number;
  udpWakeups: number;
  /** sendmmsg calls made (datagrams sent ÷ this = the send batching). */
  sendCalls: number;
  /** Of tapFrames and udpDatagrams, those the native fast path carried without JavaScript. */
  fastFrames: number;
  fastDatagrams: number;
}

const LIVENESS_MS = 1000;
const SOCKET_BUFFER = 4 << 20;

const monotonic: Clock = { now: () => performance.now(), wall: () => Date.now() };

export async function startGateway(opts: StartOptions): Promise<RunningGateway> {
  validateOptions(opts);
  const device = new Device({
    privateKey: opts.privateKey,
    slice: opts.slice ?? 'slice',
    clock: monotonic,
    ...(opts.timers ? { timers: opts.timers } : {}),
    ...(opts.cipher ? { cipher: opts.cipher } : {}),
  });
  const ours = device.publicKey.toString('base64');
  validatePeers(opts.peers, ours);
  let udp: UdpSocket | undefined;
  let tap: Tap | undefined;
  try {
    udp = openUdp({ address: opts.listen.address, port: opts.listen.port, bufBytes: SOCKET_BUFFER });
    tap = openTap(
      opts.tap.name,
      (opts.offloads ?? true) ? { vnetHdr: true, offloads: TUN_F.CSUM | TUN_F.TSO4 } : {},
    );
    // Frames written to the TAP were authenticated by the AEAD: nothing to verify again.
    tap.dataValid = true;
    await setUpTap(opts);
    return new Gateway(opts, device, tap, udp);
  } catch (err) {
    udp?.close();
    tap?.close();
    if (tap) await deleteLink(opts.tap.name).catch(() => undefined);
    throw err;
  }
}

async function setUpTap(opts: GatewayOptions): Promise<void> {
  const { name, bridge, mtu } = opts.tap;
  const lines = [`link set dev ${name} mtu ${mtu ?? opts.sliceMtu}`];
  if (bridge) lines.push(`link set dev ${name} master ${bridge}`, `link set dev ${bridge} up`);
  lines.push(`link set dev ${name} up`);
  await ipBatch(lines);
}

class Gateway implements RunningGateway {
  readonly publicKey: string;
  readonly port: number;
  private readonly counts = new DropCounts();
  private readonly arp = new ArpTable();
  private readonly datapath: Datapath;
  private readonly liveness: Liveness;
  private readonly clusterOf = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly opts: StartOptions,
    private readonly device: Device,
    private readonly tap: Tap,
    private readonly udp: UdpSocket,
  ) {
    this.publicKey = device.publicKey.toString('base64');
    this.port = udp.port;
    this.liveness = new Liveness(device);
    this.datapath = new Datapath({
      device,
      tap,
      udp,
      forwarder: new Forwarder({ arp: this.arp }),
      drops: this.counts,
      clock: monotonic,
      sliceMtu: opts.sliceMtu,
      wanMtu: opts.wanMtu ?? 1500,
      offloads: opts.offloads ?? true,
      fastPath: opts.fastPath ?? true,
      onEvent: (a) => this.event(a),
    });
    this.datapath.start();
    this.setPeers(opts.peers);
    this.timer = setInterval(() => this.datapath.perform(this.liveness.tick(monotonic.now())), LIVENESS_MS);
    this.timer.unref();
  }

  setPeers(peers: GatewayPeer[]): void {
    validatePeers(peers, this.publicKey);
    const now = monotonic.now();
    const wanted = new Map(peers.map((p) => [Buffer.from(p.publicKey, 'base64').toString('base64'), p]));
    for (const id of [...this.clusterOf.keys()]) {
      if (wanted.has(id)) continue;
      this.datapath.removePeer(id);
      this.liveness.forget(id);
      this.clusterOf.delete(id);
    }
    const out: Action[] = [];
    for (const [id, p] of wanted) {
      const endpoints = p.endpoints.map((e, j) => parseEndpoint(e, `endpoints[${j}]`));
      this.clusterOf.set(id, p.cluster);
      const peer = this.device.peer(id);
      if (!peer) {
        this.datapath.addPeer(id, endpoints[0]);
        this.liveness.setAddresses(id, endpoints, now);
        this.liveness.check(this.device.peer(id)!, now, out);
        continue;
      }
      this.liveness.setAddresses(id, endpoints, now);
      const known = endpoints.some((e) => sameEndpoint(peer.endpoint, e));
      if (!known && !peer.up && endpoints[0]) peer.endpoint = endpoints[0];
    }
    this.arp.replace(peers.flatMap((p) => p.arp ?? []));
    this.datapath.perform(out);
  }

  peerStatus(): PeerStatus[] {
    this.datapath.sync();
    const now = monotonic.now();
    const list: PeerStatus[] = [];
    for (const [id, cluster] of this.clusterOf) {
      const peer = this.device.peer(id);
      if (!peer) continue;
      const f = this.datapath.traffic.get(id);
      const s: PeerStatus = {
        cluster,
        connected: peer.current?.canSend(now) ?? false,
        txBytes: f.txBytes,
        rxBytes: f.rxBytes,
        txPackets: f.txPackets,
        rxPackets: f.rxPackets,
        handshakes: f.handshakes,
      };
      if (peer.lastHandshakeAt !== undefined) s.handshakeAgeMs = Math.round(now - peer.lastHandshakeAt);
      if (f.rttMs !== undefined) s.rttMs = Math.round(f.rttMs * 1000) / 1000;
      if (peer.endpoint) s.endpoint = formatEndpoint(peer.endpoint);
      list.push(s);
    }
    return list;
  }

  drops(): Record<string, number> {
    this.datapath.sync();
    const d: Record<string, number> = { ...this.counts.counts };
    const truncated = this.datapath.counters()?.udp.truncated ?? 0;
    if (truncated) d.truncated = truncated;
    return d;
  }

  io(): GatewayIo {
    const c = this.datapath.counters();
    return {
      tapFrames: c?.tap.items ?? 0,
      tapWakeups: c?.tap.wakeups ?? 0,
      tapSuperFrames: c?.superFrames ?? 0,
      tapSuperFramesWritten: c?.coalesced ?? 0,
      udpDatagrams: c?.udp.items ?? 0,
      udpWakeups: c?.udp.wakeups ?? 0,
      sendCalls: this.udp.sendCalls,
      fastFrames: c?.fast.tx ?? 0,
      fastDatagrams: c?.fast.rx ?? 0,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.datapath.stop();
    this.tap.close();
    this.udp.close();
    await deleteLink(this.opts.tap.name).catch(() => undefined);
  }

  private event(a: Action): void {
    const on = this.opts.onEvent;
    if (!on || !('peer' in a) || a.peer === undefined) return;
    const cluster = this.clusterOf.get(a.peer);
    if (cluster === undefined) return;
    if (a.type === 'peer-up' || a.type === 'peer-down') on({ type: a.type, cluster });
    else if (a.type === 'endpoint')
      on({ type: 'endpoint-changed', cluster, endpoint: formatEndpoint(a.endpoint) });
    else if (a.type === 'handshake-failed') on({ type: a.type, cluster, droppedFrames: a.droppedFrames });
  }
}
