// Throughput of the TypeScript protocol on this machine: full IK handshakes (both sides,
// through Device, MACs included) and transport seal+open of 1400-byte frames. Each figure is
// the median of three runs, per wall-clock second and per second of this process's CPU time
// (the second is the fair figure on a shared, loaded machine). Run:
//   node --import tsx slice-gateway/protocol/bench.ts
import { Device } from './device.ts';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { sealTransport, openTransport } from './transport.ts';
import { parse } from './wire.ts';
import type { Action, Clock } from './index.ts';

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[1] ?? 0;
const sends = (actions: Action[]): Buffer[] =>
  actions.flatMap((a) => (a.type === 'send' ? [a.datagram] : []));

function handshakesPerSecond(n: number): number {
  // A fake clock that moves one second per handshake, so the responder's 20 ms flood guard
  // does not refuse the back-to-back initiations; the work measured is all real.
  let t = 0;
  const clock: Clock = { now: () => t, wall: () => 1_700_000_000_000 + t };
  const ea = { address: '127.0.0.1', port: 1 };
  const eb = { address: '127.0.0.1', port: 2 };
  const a = new Device({ privateKey: randomBytes(32), slice: 'bench', clock });
  const b = new Device({ privateKey: randomBytes(32), slice: 'bench', clock });
  const peer = a.peer(a.addPeer(b.publicKey, eb));
  b.addPeer(a.publicKey);
  if (!peer) throw new Error('no peer');
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    t += 1000;
    const out: Action[] = [];
    a.initiate(peer, out, true);
    const [resp] = sends(b.receive(sends(out)[0] ?? Buffer.alloc(0), ea));
    if (!a.receive(resp ?? Buffer.alloc(0), eb).some((x) => x.type === 'install-keys'))
      throw new Error('no session');
  }
  return n / ((performance.now() - start) / 1000);
}

function sealOpenPerSecond(n: number, size: number): number {
  const key = randomBytes(32);
  const frame = Buffer.alloc(size, 7);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const msg = parse(sealTransport(key, 1, BigInt(i), frame));
    if (typeof msg === 'string' || msg.type !== 4 || !openTransport(key, msg.counter, msg.sealed))
      throw new Error('open');
  }
  return n / ((performance.now() - start) / 1000);
}

/** Runs `f` three times; returns the median ops/s by wall clock and by CPU time. */
function measure(n: number, f: (n: number) => number): { wall: number; cpu: number } {
  const runs = [0, 1, 2].map(() => {
    const cpu0 = process.cpuUsage();
    const wall = f(n);
    const cpu = process.cpuUsage(cpu0);
    return { wall, cpu: n / ((cpu.user + cpu.system) / 1e6) };
  });
  return {
    wall: Math.round(median(runs.map((r) => r.wall))),
    cpu: Math.round(median(runs.map((r) => r.cpu))),
  };
}

const hs = measure(500, handshakesPerSecond);
const so = measure(100_000, (n) => sealOpenPerSecond(n, 1400));
const gbps = (ops: number): number => +((ops * 1400 * 8) / 1e9).toFixed(2);
console.log(
  JSON.stringify({
    loadavg: +(loadavg()[0] ?? 0).toFixed(1),
    handshakesPerSecond: hs,
    sealOpenPerSecond1400B: so,
    gbitPerSecond: { wall: gbps(so.wall), cpu: gbps(so.cpu) },
  }),
);
