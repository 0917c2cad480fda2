/**
 * Every WAN datagram must fit the WAN MTU whole (SPEC §6): none over 1500 bytes, no IP
 * fragments. Two independent checks on the WAN link:
 * - counters: an nftables ingress chain on `wan0` in each gateway namespace counts every IPv4
 *   packet, those with a total length over 1500, and fragments (MF set or an offset). Kernel
 *   counters cost next to nothing, so they stay armed through every measured run of the path.
 * - a capture: tcpdump on gw-b's `wan0` (both directions) during one extra run, the packets then
 *   counted with the same three filters; it shows what a capture sees, and cross-checks the
 *   counters. It runs apart from the measured runs because capturing costs CPU.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessTable } from '../../lab/process.ts';
import { run } from '../../lib/exec.ts';
import { nftApply, nftListJson } from '../../lib/net/nft.ts';
import { waitFor } from '../../lib/wait.ts';
import { readLog } from './process-log.ts';
import { WAN_MTU, type Topology } from './topology.ts';

export interface WanCounts {
  packets: number;
  over: number;
  fragments: number;
}

const TABLE = 'sngb';
const FLUSH_MS = 1500;
const FILTERS: Record<keyof WanCounts, string> = {
  packets: 'ip',
  over: `ip and ip[2:2] > ${WAN_MTU}`,
  fragments: 'ip and ip[6:2] & 0x3fff != 0',
};

/** Arms the counters on both gateways' WAN links (starting from zero). */
export async function armWanCounters(t: Topology): Promise<void> {
  const script = `table netdev ${TABLE} {
  counter wan_packets {}
  counter wan_over {}
  counter wan_fragments {}
  chain wan {
    type filter hook ingress device "wan0" priority 0; policy accept;
    meta protocol ip counter name "wan_packets"
    meta protocol ip ip length > ${WAN_MTU} counter name "wan_over"
    meta protocol ip ip frag-off & 0x3fff != 0 counter name "wan_fragments"
  }
}
`;
  for (const ns of [t.ns.gwA, t.ns.gwB]) await nftApply(script, { netnsPath: `/run/netns/${ns}` });
}

/** The counters of both gateways, summed. */
export async function readWanCounters(t: Topology): Promise<WanCounts> {
  const sum: WanCounts = { packets: 0, over: 0, fragments: 0 };
  for (const ns of [t.ns.gwA, t.ns.gwB]) {
    const doc = await nftListJson(['counters', 'table', 'netdev', TABLE], { netnsPath: `/run/netns/${ns}` });
    for (const item of doc.nftables as { counter?: { name: string; packets: number } }[]) {
      const key = item.counter?.name.replace(/^wan_/, '') as keyof WanCounts | undefined;
      if (key && key in sum) sum[key] += item.counter!.packets;
    }
  }
  return sum;
}

/** Captures gw-b's WAN link while `during` runs; the packets counted by filter. */
export async function captureWan(
  t: Topology,
  procs: ProcessTable,
  dir: string,
  id: string,
  during: () => Promise<unknown>,
): Promise<WanCounts & { droppedByKernel: number }> {
  const file = join(dir, `${id}.pcap`);
  procs.start({
    id,
    argv: ['tcpdump', '-i', 'wan0', '-n', '-U', '-s', '64', '-B', '16384', '-w', file],
    netns: t.ns.gwB,
  });
  const log = procs.logPath(id);
  await waitFor(
    () => Promise.resolve(readLog(log).includes('listening on')),
    10_000,
    `tcpdump ${id} to start`,
    100,
  );
  try {
    await during();
    // tcpdump reads the kernel's capture ring in blocks retired after up to 1 s; a signal before
    // then would lose the last block's packets.
    await sleep(FLUSH_MS);
  } finally {
    await procs.stop(id);
  }
  const dropped = /(\d+) packets? dropped by kernel/.exec(readLog(log));
  const counts = { packets: 0, over: 0, fragments: 0, droppedByKernel: Number(dropped?.[1] ?? 0) };
  for (const k of Object.keys(FILTERS) as (keyof WanCounts)[]) {
    const out = await run(['tcpdump', '-r', file, '-n', '--count', FILTERS[k]]);
    const n = /(\d+) packets?/.exec(out);
    if (!n) throw new Error(`tcpdump --count ${FILTERS[k]}: no count in "${out.trim()}"`);
    counts[k] = Number(n[1]);
  }
  return counts;
}
