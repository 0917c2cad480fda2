// Test harness: a fake clock, a seeded random source, and an in-memory "network" between
// devices that can drop, duplicate, delay (so reorder) and record datagrams.
import type { Action, Clock, Endpoint, LimiterOptions } from '../index.ts';
import { Device } from '../device.ts';
import { randomBytes } from 'node:crypto';

export class FakeClock implements Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  wall(): number {
    return 1_700_000_000_000 + this.t;
  }
}

/** mulberry32: small, seeded, good enough to drive loss and reordering reproducibly. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seededBytes(seed: number): (n: number) => Buffer {
  const r = prng(seed);
  return (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
}

export interface NetOptions {
  /** Probability of losing a handshake-type datagram (1-3) and a transport one (4). */
  handshakeLoss?: number;
  transportLoss?: number;
  duplicate?: number;
  /** Each datagram is delayed uniformly in [0, maxDelay] ms, which reorders them. */
  maxDelay?: number;
  seed?: number;
}

interface InFlight {
  at: number;
  seq: number;
  from: Endpoint;
  to: Endpoint;
  datagram: Buffer;
}

export interface Node {
  device: Device;
  endpoint: Endpoint;
  delivered: { peer: string; frame: Buffer }[];
  actions: Action[];
}

export class Network {
  private readonly nodes = new Map<string, Node>();
  private flight: InFlight[] = [];
  private seq = 0;
  private readonly r: () => number;
  readonly stats = { sent: 0, lost: 0, duplicated: 0 };
  /** What became of each arrival of a data-carrying transport datagram: first arrivals and repeats. */
  readonly dataArrivals = { first: 0, repeat: 0, outcomes: new Map<string, number>() };
  private readonly arrived = new WeakSet<Buffer>();
  /** Every datagram put on the wire, for replay attacks. */
  readonly captured: Buffer[] = [];

  constructor(
    readonly clock: FakeClock,
    private readonly options: NetOptions = {},
  ) {
    this.r = prng(options.seed ?? 1);
  }

  node(address: string, port: number, limits?: Partial<LimiterOptions>): Node {
    const device = new Device({
      privateKey: randomBytes(32),
      slice: 'payments',
      clock: this.clock,
      random: seededBytes(this.nodes.size + 7),
      ...(limits ? { limits } : {}),
    });
    const n: Node = { device, endpoint: { address, port }, delivered: [], actions: [] };
    this.nodes.set(`${address}:${port}`, n);
    return n;
  }

  move(n: Node, to: Endpoint): void {
    this.nodes.delete(`${n.endpoint.address}:${n.endpoint.port}`);
    n.endpoint = to;
    this.nodes.set(`${to.address}:${to.port}`, n);
  }

  /** Performs a device's actions: sends go on the wire, deliveries are recorded. */
  handle(from: Node, actions: Action[]): void {
    for (const a of actions) {
      from.actions.push(a);
      if (a.type === 'deliver') from.delivered.push({ peer: a.peer, frame: a.frame });
      if (a.type === 'send') this.put(from.endpoint, a.endpoint, a.datagram);
    }
  }

  put(from: Endpoint, to: Endpoint, datagram: Buffer): void {
    this.stats.sent++;
    this.captured.push(datagram);
    const transport = datagram[0] === 4;
    const loss = transport ? (this.options.transportLoss ?? 0) : (this.options.handshakeLoss ?? 0);
    if (this.r() < loss) {
      this.stats.lost++;
      return;
    }
    const copies = this.r() < (this.options.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const at = this.clock.t + this.r() * (this.options.maxDelay ?? 0);
      this.flight.push({ at, seq: this.seq++, from, to, datagram });
    }
  }

  /**
   * Advances time to `until` event by event: each step jumps to the next arrival or device
   * timer, so twenty simulated minutes cost only as many steps as there are events.
   */
  run(until: number): void {
    for (;;) {
      let next = until;
      for (const f of this.flight) next = Math.min(next, f.at);
      for (const n of this.nodes.values()) next = Math.min(next, n.device.nextDeadline() ?? until);
      this.clock.t = Math.max(this.clock.t, next);
      this.deliverDue();
      for (const n of this.nodes.values()) {
        const d = n.device.nextDeadline();
        if (d !== undefined && d <= this.clock.t) this.handle(n, n.device.tick());
      }
      if (this.clock.t >= until) return;
    }
  }

  deliverDue(): void {
    while (this.flight.length) {
      let i = 0;
      this.flight.forEach((f, j) => {
        const best = this.flight[i];
        if (best && (f.at < best.at || (f.at === best.at && f.seq < best.seq))) i = j;
      });
      const f = this.flight[i];
      if (!f || f.at > this.clock.t) return;
      this.flight.splice(i, 1);
      const n = this.nodes.get(`${f.to.address}:${f.to.port}`);
      if (!n) continue;
      const actions = n.device.receive(f.datagram, f.from);
      if (f.datagram[0] === 4 && f.datagram.length > 32) this.countArrival(f.datagram, actions);
      this.handle(n, actions);
    }
  }

  private countArrival(datagram: Buffer, actions: Action[]): void {
    const a = this.dataArrivals;
    if (this.arrived.has(datagram)) a.repeat++;
    else a.first++;
    this.arrived.add(datagram);
    const outcome = actions.find((x) => x.type === 'deliver' || x.type === 'drop');
    const key = outcome?.type === 'drop' ? outcome.reason : (outcome?.type ?? 'nothing');
    a.outcomes.set(key, (a.outcomes.get(key) ?? 0) + 1);
  }
}

/** Two gateways that know each other, A with B's endpoint configured. */
export interface Pair {
  net: Network;
  clock: FakeClock;
  a: Node;
  b: Node;
  aToB: string;
  bToA: string;
}

export function pair(options: NetOptions = {}, bLimits?: Partial<LimiterOptions>): Pair {
  const clock = new FakeClock();
  const net = new Network(clock, options);
  const a = net.node('192.0.2.1', 51820);
  const b = net.node('198.51.100.1', 51820, bLimits);
  const aToB = a.device.addPeer(b.device.publicKey, b.endpoint);
  const bToA = b.device.addPeer(a.device.publicKey);
  return { net, clock, a, b, aToB, bToA };
}

export function dropReasons(actions: Action[]): string[] {
  return actions.flatMap((a) => (a.type === 'drop' ? [a.reason] : []));
}

/** A pair with sessions up both ways, and the datagrams that set them up. */
export function established(
  bLimits?: Partial<LimiterOptions>,
): Pair & { initiation: Buffer; response: Buffer; data: Buffer } {
  const p = pair({}, bLimits);
  p.net.handle(p.a, p.a.device.send(p.aToB, Buffer.from('hello')));
  p.net.run(p.clock.t + 1000);
  const find = (type: number): Buffer => {
    const d = p.net.captured.find((x) => x[0] === type);
    if (!d) throw new Error(`no datagram of type ${type}`);
    return d;
  };
  return { ...p, initiation: find(1), response: find(2), data: find(4) };
}
