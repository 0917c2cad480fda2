/**
 * TAP offloads end to end (root; namespaces `sn-gw-*` from test/helpers/topology.ts, removed in
 * teardown): with `offloads: true` the kernel hands the gateway TCPv4 super-frames, which it
 * splits natively; a TCP iperf3 run between two pods crosses whole, the gateway really saw
 * super-frames, and the WAN still carries only datagrams ≤ 1500 bytes and no IP fragment.
 */
import test from 'ava';
import { join } from 'node:path';
import { Capture } from './helpers/capture.ts';
import { GW_PORT, Topology } from './helpers/topology.ts';

const canNetns = process.getuid?.() === 0;

test.serial(
  'offloads on: iperf3 TCP through two gateways, super-frames split, WAN ≤ 1500 and unfragmented',
  async (t) => {
    if (!canNetns) return t.pass('needs root');
    t.timeout(120_000);
    const topo = await Topology.create({ gateways: 2, offloads: true });
    t.teardown(() => topo.destroy());
    const end = Date.now() + 15_000;
    while (!topo.nodes.every((n) => topo.state(n.index).peers.every((p) => p.connected))) {
      if (Date.now() > end) throw new Error('gateways not connected in 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [a, b] = [topo.node(1), topo.node(2)];
    const server = topo.exec(b.pod, ['iperf3', '-s', '-1', '-J'], 60_000);
    await new Promise((r) => setTimeout(r, 500));
    const cap = await Capture.start(topo.wan, 'wan0', join(topo.dir, 'wan.pcap'), ['-s', '128']);
    const bytes = 40 << 20;
    const client = await topo.exec(a.pod, ['iperf3', '-c', b.podIp, '-n', String(bytes), '-J'], 60_000);
    const packets = await cap.stop();
    await server;
    t.is(client.exitCode, 0, client.stderr);
    const report = JSON.parse(client.stdout) as {
      end: { sum_received: { bytes: number; bits_per_second: number }; sum_sent: { retransmits: number } };
    };
    // The server's count stops at the end of the test, a few in-flight segments early.
    t.true(report.end.sum_received.bytes >= bytes * 0.9, `received ${report.end.sum_received.bytes} bytes`);
    t.log(
      `${(report.end.sum_received.bits_per_second / 1e9).toFixed(3)} Gbit/s, ${report.end.sum_sent.retransmits} retransmits`,
    );

    const s1 = topo.state(1);
    t.true(s1.io.tapSuperFrames > 0, `gateway 1 split ${s1.io.tapSuperFrames} super-frames`);
    t.true(s1.io.tapFrames < report.end.sum_received.bytes / 1400, 'fewer TAP reads than MTU frames');
    t.deepEqual(s1.drops, {}, 'gateway 1 dropped nothing');
    const s2 = topo.state(2);
    t.true(
      s2.io.tapSuperFramesWritten > 0,
      `gateway 2 coalesced ${s2.io.tapSuperFramesWritten} super-frames`,
    );
    t.deepEqual(s2.drops, {}, 'gateway 2 dropped nothing (the TAP took every super-frame)');
    const udp = packets.filter((p) => p.protocol === 17 && (p.dport === GW_PORT || p.sport === GW_PORT));
    t.true(udp.length > bytes / 1500, `the capture saw the transfer (${udp.length} datagrams)`);
    t.is(packets.filter((p) => p.fragment).length, 0, 'no IP fragments');
    const largest = Math.max(...packets.map((p) => p.ipLength ?? 0));
    t.true(largest <= 1500, `largest IP packet ${largest} bytes`);
  },
);
