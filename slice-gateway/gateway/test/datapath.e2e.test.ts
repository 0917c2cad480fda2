/**
 * The gateway data path end to end, in real network namespaces (test/helpers/topology.ts):
 * pods on bridges behind gateways (standalone.ts processes) joined by a WAN bridge. Each test
 * builds its own topology and tears it down in t.teardown, whatever happens.
 */
import test, { type ExecutionContext } from 'ava';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { run } from '../../../lib/exec.ts';
import { Capture, inject, type Packet } from './helpers/capture.ts';
import type { HostileCounts, HostileSpec } from './helpers/hostile.ts';
import { ATTACKER, GW_PORT, Topology, type TopologyOptions } from './helpers/topology.ts';

const canNetns = process.getuid?.() === 0;
const HOSTILE = fileURLToPath(new URL('helpers/hostile.ts', import.meta.url));
const MARKER = 'SLICENET-PLAINTEXT-MARKER-0123456789:';

async function topology(t: ExecutionContext, opts: TopologyOptions): Promise<Topology> {
  const topo = await Topology.create(opts);
  t.teardown(() => topo.destroy());
  await waitUntil(() => topo.nodes.every((n) => topo.state(n.index).peers.every((p) => p.connected)), 15_000);
  return topo;
}

async function waitUntil(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const received = (pingOut: string): number => Number(/(\d+) received/.exec(pingOut)?.[1] ?? -1);
const transmitted = (pingOut: string): number => Number(/(\d+) packets transmitted/.exec(pingOut)?.[1] ?? -1);

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const k of Object.keys(after))
    if ((after[k] ?? 0) !== (before[k] ?? 0)) d[k] = after[k]! - (before[k] ?? 0);
  return d;
}

/** Every captured packet must be ARP or IPv4/UDP to or from the gateway port, unfragmented, ≤ 1500 bytes. */
function checkWan(t: ExecutionContext, packets: Packet[]): void {
  const strays = packets.filter(
    (p) => p.etherType !== 0x0806 && !(p.protocol === 17 && (p.sport === GW_PORT || p.dport === GW_PORT)),
  );
  t.deepEqual(
    strays.slice(0, 3).map((p) => ({ type: p.etherType, proto: p.protocol, dport: p.dport })),
    [],
  );
  t.is(packets.filter((p) => p.fragment).length, 0, 'no IP fragments');
  const largest = Math.max(...packets.map((p) => p.ipLength ?? 0));
  t.true(largest <= 1500, `largest IP packet ${largest} bytes`);
}

const SERVER = `
import hashlib, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 5001)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())
`;
const CLIENT = `
import socket, sys, time
for i in range(50):
    try:
        c = socket.create_connection((sys.argv[1], 5001), timeout=5); break
    except OSError: time.sleep(0.1)
c.sendall(sys.argv[2].encode() * int(sys.argv[3])); c.close()
`;

test.serial(
  'two gateways: pods reach each other; the WAN carries only UDP to the gateway port, never the payload',
  async (t) => {
    if (!canNetns) return t.pass('needs root');
    t.timeout(120_000);
    const topo = await topology(t, { gateways: 2 });
    t.is(received((await topo.ping(1, 2)).stdout), 3);
    t.is(received((await topo.ping(2, 1)).stdout), 3);

    const cap = await Capture.start(topo.wan, 'wan0', join(topo.dir, 'wan.pcap'));
    const copies = 40_000; // 1.5 MB of a known text
    const server = topo.exec(topo.node(2).pod, ['python3', '-c', SERVER]);
    await run(['python3', '-c', CLIENT, topo.node(2).podIp, MARKER, String(copies)], {
      netns: topo.node(1).pod,
    });
    const [bytes] = (await server).stdout.trim().split(' ');
    await topo.ping(1, 2, ['-c', '5', '-i', '0.05', '-s', '1000', '-p', '5e11ce7e7000000000000000000000f1']);
    const packets = await cap.stop();
    t.is(Number(bytes), MARKER.length * copies, 'the transfer arrived whole');

    const udp = packets.filter((p) => p.dport === GW_PORT);
    const carried = udp.reduce((s, p) => s + (p.payload?.length ?? 0), 0);
    // tcpdump may miss a few packets under load; it must have seen nearly all of them.
    t.true(carried > 0.9 * MARKER.length * copies, `the capture saw the transfer (${carried} bytes of UDP)`);
    const needles = [Buffer.from('PLAINTEXT-MARKER'), Buffer.from('5e11ce7e70', 'hex')];
    t.is(
      packets.filter((p) => needles.some((n) => p.frame.includes(n))).length,
      0,
      'no plaintext on the WAN',
    );
    checkWan(t, packets);
    t.deepEqual(topo.state(1).drops, {}, 'gateway 1 dropped nothing');
    const s = topo.peer(1, 2)!;
    t.true(s.connected && s.txBytes > 0 && s.rxBytes > 0 && (s.handshakeAgeMs ?? -1) >= 0, JSON.stringify(s));
    // Packets counted per datagram: every one fits the WAN, so bytes ÷ packets is at most 1472.
    t.true(s.txPackets > 0 && s.rxPackets > 0, JSON.stringify(s));
    t.true(s.txBytes / s.txPackets <= 1472 && s.rxBytes / s.rxPackets <= 1472, JSON.stringify(s));
    const rtts = [topo.peer(1, 2)!.rttMs, topo.peer(2, 1)!.rttMs];
    t.true(
      rtts.some((r) => r !== undefined && r >= 0),
      `a handshake round trip measured: ${JSON.stringify(rtts)}`,
    );
  },
);

test.serial(
  'MTU: frames up to the slice MTU cross, larger ones are dropped as oversize, the WAN stays ≤ 1500',
  async (t) => {
    if (!canNetns) return t.pass('needs root');
    t.timeout(120_000);
    const topo = await topology(t, { gateways: 2 });
    // Let pod 1 send frames past the slice MTU (its gateway's TAP has MTU 1500, the slice 1400).
    const n1 = topo.node(1);
    await run(['ip', 'link', 'set', 'slice0', 'mtu', '1500'], { netns: n1.pod });
    await run(['ip', 'link', 'set', 'pod', 'mtu', '1500'], { netns: n1.gw });
    const cap = await Capture.start(topo.wan, 'wan0', join(topo.dir, 'mtu.pcap'));
    const fits = await topo.ping(1, 2, ['-c', '3', '-i', '0.1', '-M', 'do', '-s', '1372']);
    t.is(received(fits.stdout), 3, 'a 1400-byte IP packet (the slice MTU) crosses');
    const before = topo.state(1).drops.oversize ?? 0;
    const big = await topo.ping(1, 2, ['-c', '3', '-i', '0.1', '-M', 'do', '-s', '1373']);
    t.is(received(big.stdout), 0, 'a 1401-byte one does not');
    await waitUntil(() => (topo.state(1).drops.oversize ?? 0) - before >= 3, 3000);
    t.is((topo.state(1).drops.oversize ?? 0) - before, 3, 'each counted as oversize');
    const packets = await cap.stop();
    checkWan(t, packets);
    const largest = Math.max(...packets.map((p) => p.ipLength ?? 0));
    t.is(largest, 1400 + 14 + 32 + 28, 'the largest datagram is a full frame sealed: 1474 bytes');
  },
);

test.serial(
  'hostile input on the socket is dropped and counted by reason; the live session carries on',
  async (t) => {
    if (!canNetns) return t.pass('needs root');
    t.timeout(180_000);
    const topo = await topology(t, { gateways: 2 });
    const [a, b] = [topo.node(1), topo.node(2)];
    const toA = (p: Packet): boolean => p.dst === a.wanIp && p.dport === GW_PORT && p.payload?.[0] === 4;

    t.is(received((await topo.ping(2, 1)).stdout), 3, 'the pods know each other (ARP) before the hold');
    // Hold back 40 of B's transport datagrams to A: captured where they enter the WAN, dropped
    // before A. Re-injected later, shuffled, they are reordered but inside the replay window.
    await run(['nft', '-f', '-'], {
      netns: topo.wan,
      input: [
        'table bridge hold {',
        '  chain f {',
        '    type filter hook forward priority 0;',
        `    ip saddr ${b.wanIp} ip daddr ${a.wanIp} udp dport ${GW_PORT} drop`,
        '  }',
        '}',
      ].join('\n'),
    });
    const held = await Capture.start(topo.wan, 'g2', join(topo.dir, 'held.pcap'), ['udp']);
    await topo.ping(2, 1, ['-c', '40', '-i', '0.02', '-W', '0.1', '-q']);
    const heldFrames = (await held.stop()).filter(toA).slice(0, 40);
    await run(['nft', 'delete', 'table', 'bridge', 'hold'], { netns: topo.wan });
    t.true(heldFrames.length >= 30, `held ${heldFrames.length} datagrams`);

    const before = topo.state(1);
    const handshakesBefore = topo.peer(1, 2)!.handshakes;
    const liveIndex = heldFrames[0]!.payload!.readUInt32LE(4);
    // A ping from A's pod across the whole attack: the session must carry it throughout.
    const ping = topo.ping(1, 2, ['-c', '200', '-i', '0.05', '-W', '2', '-q'], 120_000);

    const spec: HostileSpec = {
      bind: ATTACKER,
      target: { address: a.wanIp, port: GW_PORT },
      targetKey: a.publicKey,
      slice: 'test',
      liveIndex,
      samples: heldFrames.map((p) => p.payload!.toString('base64')),
      flood: 2000,
    };
    const sent = await topo.script<HostileCounts>(topo.wan, HOSTILE, [JSON.stringify(spec)]);
    const shuffled = [...heldFrames].sort(() => Math.random() - 0.5).map((p) => p.frame);
    await inject(topo.wan, 'g1', shuffled);
    await new Promise((r) => setTimeout(r, 300));
    const mid = topo.state(1);
    await inject(topo.wan, 'g1', shuffled);
    const pingOut = (await ping).stdout;
    await new Promise((r) => setTimeout(r, 500));
    const after = topo.state(1);
    const d = delta(after.drops, before.drops);
    t.log('sent', sent, 'drops', d);

    const heldBytes = heldFrames.reduce((s, p) => s + p.payload!.length, 0);
    const rxFirst = mid.peers[0]!.rxBytes - before.peers[0]!.rxBytes;
    t.true(rxFirst >= heldBytes, `the reordered datagrams were accepted (${rxFirst} ≥ ${heldBytes} bytes)`);
    t.is((mid.drops.replay ?? 0) - (before.drops.replay ?? 0), 0, 'the first injection: no replays');
    t.is(d.replay, heldFrames.length, 'the second: each a replay, once');
    t.true((d.short ?? 0) >= sent.short, 'short');
    t.is(d.bad_length, sent.badLength, 'bad_length');
    t.is(d.oversize, sent.oversize, 'oversize');
    t.is(d.unknown_type, sent.garbage, 'unknown_type');
    t.is(d.decrypt_failed, sent.wrongKey, 'decrypt_failed');
    t.true((d.unknown_peer ?? 0) >= sent.unknownPeer, 'unknown_peer');
    t.true((d.bad_mac2_needed ?? 0) > sent.flood / 2, 'the flood met cookies');
    t.true(
      (d.unknown_peer ?? 0) + (d.bad_mac2_needed ?? 0) + (d.rate_limited ?? 0) >=
        sent.unknownPeer + sent.flood,
      'every initiation counted',
    );
    t.is(
      transmitted(pingOut) - received(pingOut),
      0,
      `the ping never missed: ${pingOut.trim().split('\n').pop()}`,
    );
    const peer = topo.peer(1, 2)!;
    t.is(peer.endpoint, `${b.wanIp}:${GW_PORT}`, 'the peer did not move to the attacker');
    t.is(peer.handshakes, handshakesBefore, 'no handshake was forced');
    t.true(peer.connected);
    t.is(a.proc?.exitCode, null, 'the gateway is alive');
  },
);

test.serial(
  'fast path: lone packets cross in native code, sharing sessions, counters and replay windows with the TypeScript path',
  async (t) => {
    if (!canNetns) return t.pass('needs root');
    t.timeout(120_000);
    const topo = await topology(t, { gateways: 2 });
    t.is(received((await topo.ping(1, 2)).stdout), 3, 'the pods know each other (ARP, MACs learned)');
    const io = (i: number): { fastFrames: number; fastDatagrams: number; tapFrames: number } =>
      topo.state(i).io;
    const before = [io(1), io(2)];
    const pkts = topo.peer(1, 2)!.txPackets;
    // 20 pings 50 ms apart: every wake-up reads one packet, the fast path's case.
    t.is(received((await topo.ping(1, 2, ['-c', '20', '-i', '0.05', '-q'])).stdout), 20);
    // A bulk transfer: batches, through TypeScript, under the same sessions.
    const server = topo.exec(topo.node(2).pod, ['python3', '-c', SERVER]);
    await run(['python3', '-c', CLIENT, topo.node(2).podIp, MARKER, '20000'], { netns: topo.node(1).pod });
    t.is(
      Number((await server).stdout.trim().split(' ')[0]),
      MARKER.length * 20_000,
      'the transfer arrived whole',
    );
    // And lone packets again: the counters and windows both paths used stayed one.
    t.is(received((await topo.ping(2, 1, ['-c', '20', '-i', '0.05', '-q'])).stdout), 20);
    await new Promise((r) => setTimeout(r, 1500)); // the gateways' state files catch up
    const after = [io(1), io(2)];
    for (const i of [0, 1]) {
      const frames = after[i]!.fastFrames - before[i]!.fastFrames;
      const datagrams = after[i]!.fastDatagrams - before[i]!.fastDatagrams;
      t.log(`gateway ${i + 1}: fast frames ${frames}, fast datagrams ${datagrams}`);
      t.true(frames >= 30, `gateway ${i + 1} sealed most lone frames natively (${frames} of 40)`);
      t.true(datagrams >= 30, `gateway ${i + 1} opened most lone datagrams natively (${datagrams} of 40)`);
    }
    t.deepEqual(topo.state(1).drops, {}, 'gateway 1 dropped nothing (no replay, no reused counter)');
    t.deepEqual(topo.state(2).drops, {}, 'gateway 2 dropped nothing');
    t.true(topo.peer(1, 2)!.txPackets - pkts >= 40, 'what the fast path sent is in the peer figures');
  },
);

test.serial('rekey under a continuous ping loses nothing beyond one round trip', async (t) => {
  if (!canNetns) return t.pass('needs root');
  t.timeout(120_000);
  const timers = { rekeyAfterTime: 2000, rejectAfterTime: 6000, rekeyTimeout: 1000, keepaliveTimeout: 1000 };
  const topo = await topology(t, { gateways: 2, timers });
  const before = topo.peer(1, 2)!.handshakes + topo.peer(2, 1)!.handshakes;
  const out = (await topo.ping(1, 2, ['-c', '1000', '-i', '0.01', '-W', '1', '-q'], 60_000)).stdout;
  const rekeys = (topo.peer(1, 2)!.handshakes + topo.peer(2, 1)!.handshakes - before) / 2;
  // What each gateway dropped, by reason: where a lost ping went, if one is lost.
  const drops = [1, 2].map((i) => JSON.stringify(topo.state(i).drops));
  t.log(out.trim().split('\n').slice(-2).join(' '), `rekeys: ${rekeys}`, `drops: ${drops.join(' ')}`);
  t.true(rekeys >= 3, `${rekeys} rekeys during the ping`);
  t.true(transmitted(out) - received(out) <= 1, 'at most one packet (one RTT at 10 ms spacing) lost');
  t.is(topo.state(1).drops.no_session ?? 0, 0);
});

test.serial('roaming: a peer that changes its WAN address is followed without a new config', async (t) => {
  if (!canNetns) return t.pass('needs root');
  t.timeout(120_000);
  const topo = await topology(t, { gateways: 2 });
  t.is(received((await topo.ping(1, 2)).stdout), 3);
  await topo.moveWan(2, '198.51.100.12');
  const out = (await topo.ping(2, 1, ['-c', '5', '-i', '0.2'])).stdout;
  t.is(received(out), 5, 'B reaches A from its new address at once');
  t.is(topo.peer(1, 2)!.endpoint, `198.51.100.12:${GW_PORT}`, "A follows B's new address");
  t.is(received((await topo.ping(1, 2)).stdout), 3, 'and A reaches B there');
  t.true(topo.node(1).stderr.join('').includes('"endpoint-changed"'), 'A reported an endpoint-changed event');
});

test.serial(
  'three gateways in a full mesh: every pair reaches the other; a broadcast stays bounded',
  async (t) => {
    if (!canNetns) return t.pass('needs root');
    t.timeout(180_000);
    const topo = await topology(t, { gateways: 3, arp: true });
    for (const [x, y] of [
      [1, 2],
      [1, 3],
      [2, 3],
      [2, 1],
      [3, 1],
      [3, 2],
    ] as const)
      t.is(received((await topo.ping(x, y, ['-c', '2', '-i', '0.2'])).stdout), 2, `pod ${x} → pod ${y}`);

    const count = async (): Promise<{ rx: number; tx: number }[]> =>
      Promise.all([1, 2, 3].map((i) => topo.tapPackets(i)));
    const before = await count();
    await topo.exec(topo.node(1).pod, ['ping', '-b', '-c', '10', '-i', '0.2', '-W', '1', '10.50.0.255']);
    await new Promise((r) => setTimeout(r, 500));
    const after = await count();
    const frames = after.map((c, i) => ({ read: c.tx - before[i]!.tx, written: c.rx - before[i]!.rx }));
    t.log('TAP frames per gateway during 10 broadcasts', frames);
    t.is(frames[0]!.read, 10, 'gateway 1 read the 10 broadcasts from its TAP');
    t.deepEqual(
      frames.slice(1).map((f) => f.written),
      [10, 10],
      'each other gateway wrote each broadcast once to its TAP',
    );
    t.deepEqual(
      frames.map((f, i) => (i === 0 ? f.written : f.read)),
      [0, 0, 0],
      'nothing came back: no loop',
    );

    // ARP for a slice address the Slice lists is answered by the local gateway, never flooded.
    const counts2 = await count();
    await run(['ip', 'neigh', 'flush', 'dev', 'slice0'], { netns: topo.node(1).pod });
    t.is(received((await topo.ping(1, 3, ['-c', '1'])).stdout), 1);
    const counts3 = await count();
    t.is(counts3[1]!.rx - counts2[1]!.rx, 0, "pod 1's ARP request for pod 3 never reached gateway 2's side");
  },
);
