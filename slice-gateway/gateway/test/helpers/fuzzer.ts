/**
 * A datagram fuzzer for a live gateway, run in the WAN namespace:
 *   node --import tsx fuzzer.ts '<json FuzzSpec>'   → prints {"sent": n}
 *
 * It sends `count` datagrams at about `rate` per second from a native UDP socket (sendmmsg,
 * 64 a call), drawn from pools of 65 536 that are rebuilt as they are used up, mixing:
 * random bytes; random bodies behind each valid type byte at and around each message size;
 * bit flips, truncations and extensions of real captured datagrams; the live session's index
 * with random counters and bodies (full AEAD work for the gateway); captured datagrams
 * replayed as they are; and valid initiations from a key the gateway does not know.
 */
import { randomBytes } from 'node:crypto';
import { newDatagrams, openUdp, ipv4ToU32 } from '../../../../native/index.ts';
import { Device, type Action } from '../../../protocol/index.ts';
import type { HostileSpec } from './hostile.ts';

export interface FuzzSpec extends Omit<HostileSpec, 'flood'> {
  count: number;
  rate: number;
}

const POOL = 65_536;
const SIZES = [0, 1, 3, 4, 16, 31, 32, 33, 63, 64, 65, 91, 92, 93, 147, 148, 149, 1446, 1447];

function rnd(n: number): number {
  return Math.floor(Math.random() * n);
}

function pool(samples: Buffer[], initiations: Buffer[], liveIndex: number): Buffer[] {
  const noise = randomBytes(POOL * 64);
  let at = 0;
  const bytes = (n: number): Buffer => {
    if (at + n > noise.length) at = 0;
    const b = Buffer.from(noise.subarray(at, at + n));
    at += n;
    return b;
  };
  const sample = (): Buffer => samples[rnd(samples.length)]!;
  const out: Buffer[] = [];
  for (let i = 0; i < POOL; i++) {
    switch (rnd(8)) {
      case 0:
        out.push(bytes(rnd(1448)));
        break;
      case 1: {
        const d = bytes(SIZES[rnd(SIZES.length)]!);
        if (d.length >= 4) d.writeUInt32LE(1 + rnd(4), 0);
        out.push(d);
        break;
      }
      case 2: {
        const d = Buffer.from(rnd(2) ? sample() : initiations[rnd(initiations.length)]!);
        for (let k = 1 + rnd(8); k > 0; k--) d[rnd(d.length)]! ^= 1 << rnd(8);
        out.push(d);
        break;
      }
      case 3:
        out.push(sample().subarray(0, rnd(sample().length)));
        break;
      case 4:
        out.push(Buffer.concat([sample(), bytes(1 + rnd(64))]));
        break;
      case 5: {
        const d = bytes(32 + rnd(1400));
        d.writeUInt32LE(4, 0);
        d.writeUInt32LE(liveIndex, 4);
        out.push(d);
        break;
      }
      case 6:
        out.push(sample());
        break;
      default:
        out.push(rnd(8) ? bytes(rnd(200)) : initiations[rnd(initiations.length)]!);
    }
  }
  return out;
}

async function main(spec: FuzzSpec): Promise<{ sent: number }> {
  const sock = openUdp({ address: spec.bind, port: 0, gso: false, gro: false });
  const clock = { now: () => performance.now(), wall: () => Date.now() };
  const stranger = new Device({ privateKey: randomBytes(32), slice: spec.slice, clock });
  const id = stranger.addPeer(spec.targetKey, spec.target);
  const initiations = Array.from({ length: 64 }, () => {
    const out: Action[] = [];
    stranger.initiate(stranger.peer(id)!, out, true);
    const a = out.find((x) => x.type === 'send');
    return a?.type === 'send' ? a.datagram : Buffer.alloc(148);
  });
  const samples = spec.samples.map((s) => Buffer.from(s, 'base64'));
  const batch = newDatagrams(64, 64 * 1500);
  batch.addrs.fill(ipv4ToU32(spec.target.address));
  batch.ports.fill(spec.target.port);
  const start = performance.now();
  let sent = 0;
  let items = pool(samples, initiations, spec.liveIndex);
  let next = 0;
  while (sent < spec.count) {
    let pos = 0;
    const n = Math.min(64, spec.count - sent);
    for (let i = 0; i < n; i++) {
      if (next === items.length) {
        items = pool(samples, initiations, spec.liveIndex);
        next = 0;
      }
      const d = items[next++]!;
      batch.buf.set(d, pos);
      batch.offsets[i] = pos;
      batch.lengths[i] = d.length;
      pos += d.length;
    }
    batch.count = n;
    // A full socket buffer ends the call early: send the rest later rather than lose it here.
    const done = sock.send(batch, 0, n);
    sent += done;
    const ahead = sent / spec.rate - (performance.now() - start) / 1000;
    if (ahead > 0.002 || done < n) await new Promise((r) => setTimeout(r, Math.max(1, ahead * 1000)));
  }
  sock.close();
  return { sent };
}

main(JSON.parse(process.argv[2] ?? '{}') as FuzzSpec).then(
  (r) => process.stdout.write(JSON.stringify(r) + '\n'),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
