/**
 * Hostile datagrams, sent for real from a UDP socket in the WAN namespace to a live gateway.
 * Run as a script there: `node --import tsx hostile.ts '<json HostileSpec>'`; prints one JSON
 * line, how many of each kind it sent. Each kind is built to meet exactly one drop reason:
 *
 *   short       transport datagrams cut below 32 bytes              → short
 *   badLength   a type-1 datagram longer than an initiation          → bad_length
 *   oversize    datagrams longer than the slice MTU allows (1 fragmented) → oversize
 *   garbage     random bytes behind an unknown type byte             → unknown_type
 *   wrongKey    transport datagrams on the live session's index, sealed by no key of ours → decrypt_failed
 *   unknownPeer initiations with a valid mac1 from a key the gateway does not know → unknown_peer
 *   flood       as many such initiations as fast as possible        → bad_mac2_needed (cookie replies)
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { Device, type Action, type Endpoint } from '../../../protocol/index.ts';

export interface HostileSpec {
  bind: string;
  target: Endpoint;
  targetKey: string;
  slice: string;
  /** A receiver index of the target's live session (from a captured datagram). */
  liveIndex: number;
  /** Captured transport datagrams to the target, base64. */
  samples: string[];
  flood: number;
}

export type HostileCounts = Record<
  'short' | 'badLength' | 'oversize' | 'garbage' | 'wrongKey' | 'unknownPeer' | 'flood',
  number
>;

async function main(spec: HostileSpec): Promise<HostileCounts> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, spec.bind, () => r()));
  sock.on('message', () => undefined); // cookie replies: read and ignored
  const send = (d: Uint8Array): Promise<void> =>
    new Promise((r, j) => sock.send(d, spec.target.port, spec.target.address, (e) => (e ? j(e) : r())));
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const counts: HostileCounts = {
    short: 0,
    badLength: 0,
    oversize: 0,
    garbage: 0,
    wrongKey: 0,
    unknownPeer: 0,
    flood: 0,
  };
  const samples = spec.samples.map((s) => Buffer.from(s, 'base64'));
  for (let i = 0; i < 31; i++) {
    await send(samples[i % samples.length]!.subarray(0, i + 1));
    counts.short++;
  }
  for (const len of [149, 150, 200, 300, 1000]) {
    const d = Buffer.alloc(len);
    d[0] = 1;
    await send(d);
    counts.badLength++;
  }
  for (const len of [1447, 1450, 1472, 3000]) {
    const d = randomBytes(len);
    d.writeUInt32LE(4, 0);
    await send(d);
    counts.oversize++;
  }
  for (let i = 0; i < 50; i++) {
    const d = randomBytes(40 + i * 20);
    d[0] = 0x99;
    await send(d);
    counts.garbage++;
  }
  for (let i = 0; i < 50; i++) {
    const d = randomBytes(32 + 100);
    d.writeUInt32LE(4, 0);
    d.writeUInt32LE(spec.liveIndex, 4);
    d.writeBigUInt64LE(BigInt(1e9 + i), 8);
    await send(d);
    counts.wrongKey++;
  }
  const clock = { now: () => performance.now(), wall: () => Date.now() };
  const stranger = new Device({ privateKey: randomBytes(32), slice: spec.slice, clock });
  const id = stranger.addPeer(spec.targetKey, spec.target);
  const initiation = (): Buffer => {
    const out: Action[] = [];
    stranger.initiate(stranger.peer(id)!, out, true);
    const a = out.find((x) => x.type === 'send');
    if (!a || a.type !== 'send') throw new Error('no initiation');
    return a.datagram;
  };
  for (let i = 0; i < 5; i++) {
    await send(initiation());
    counts.unknownPeer++;
    await pause(30);
  }
  // Past the load threshold (100/s) the gateway wants mac2: build them ahead, send in bursts.
  const flood = Array.from({ length: spec.flood }, initiation);
  for (const d of flood) {
    await send(d);
    counts.flood++;
  }
  await pause(200);
  sock.close();
  return counts;
}

main(JSON.parse(process.argv[2] ?? '{}') as HostileSpec).then(
  (c) => process.stdout.write(JSON.stringify(c) + '\n'),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
